import Foundation
@testable import MusterAWS
import Testing

@Suite("STS response parsing")
struct STSParsingTests {
    @Test("XMLText finds elements by exact name and unescapes entities")
    func xmlText() {
        let xml: Substring = "<A><CodeX>no</CodeX><Code attr=\"1\"> a &lt;b&gt; &amp; &#65;&#x42; </Code><Empty/></A>"
        #expect(XMLText.text("Code", in: xml) == "a <b> & AB")
        #expect(XMLText.text("CodeX", in: xml) == "no")
        #expect(XMLText.text("Empty", in: xml) == "")
        #expect(XMLText.text("Missing", in: xml) == nil)
    }

    @Test("AWS's documented AssumeRole response parses")
    func documentedResponse() throws {
        let body = Array("""
            <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
            <AssumeRoleResult>
            <SourceIdentity>Alice</SourceIdentity>
              <AssumedRoleUser>
                <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
                <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
              </AssumedRoleUser>
              <Credentials>
                <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
                <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
                <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764</SessionToken>
                <Expiration>2019-11-09T13:34:41Z</Expiration>
              </Credentials>
              <PackedPolicySize>6</PackedPolicySize>
            </AssumeRoleResult>
            <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
            </AssumeRoleResponse>
            """.utf8)
        let credentials = try AssumeRoleResponse.credentials(from: body)
        #expect(credentials.accessKeyID == "ASIAIOSFODNN7EXAMPLE")
        #expect(credentials.secretAccessKey == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")
        #expect(credentials.sessionToken == "AQoDYXdzEPT//////////wEXAMPLEtc764")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_573_306_481))
    }

    @Test("Fractional-second expirations parse")
    func fractional() {
        let parsed = AssumeRoleResponse.parseTimestamp("2011-07-15T23:28:33.359Z")
        #expect(abs((parsed?.timeIntervalSince1970 ?? 0) - 1_310_772_513.359) < 0.001)
    }
}
