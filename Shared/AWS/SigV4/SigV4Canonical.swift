import Crypto
import Foundation
import MusterHTTP

/// The pieces of Signature Version 4 shared by ``SigV4Signer`` and
/// ``SigV4Verifier``: canonical request, string to sign, signing key. Pure
/// functions; botocore's `SigV4Auth` is the reference they are tested against.
enum SigV4Canonical {
    static let algorithm = "AWS4-HMAC-SHA256"

    /// Headers never signed: hop-by-hop ones a proxy may rewrite, and ones
    /// HTTP stacks change on their own (botocore's list).
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    /// SHA-256 of the empty string, the payload hash of a request without body.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The path with dot segments and repeated slashes removed, then
    /// URI-encoded again (non-S3 services sign the encoded path encoded twice).
    static func canonicalURI(_ rawPath: String) -> String {
        let segments = rawPath.split(separator: "/", omittingEmptySubsequences: true)
        var output: [Substring] = []
        for segment in segments where segment != "." {
            if segment == ".." {
                _ = output.popLast()
            } else {
                output.append(segment)
            }
        }
        var path = "/" + output.joined(separator: "/")
        if rawPath.hasSuffix("/") && !output.isEmpty { path += "/" }
        return uriEncode(Array(path.utf8), keepSlash: true)
    }

    /// Decodes each name and value of the raw query, re-encodes them the AWS
    /// way, and sorts by name, then value.
    static func canonicalQuery(_ rawQuery: String) -> String {
        guard !rawQuery.isEmpty else { return "" }
        let pairs = rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (String, String) in
            let equals = pair.firstIndex(of: "=")
            let name = equals.map { pair[..<$0] } ?? pair
            let value = equals.map { pair[pair.index(after: $0)...] } ?? ""
            return (uriEncode(percentDecode(name), keepSlash: false), uriEncode(percentDecode(value), keepSlash: false))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The names to sign from `headers`: lowercased, deduplicated, sorted.
    static func signableHeaderNames(_ headers: [HTTPHeader]) -> [String] {
        Array(Set(headers.map { $0.name.lowercased() }).subtracting(unsignedHeaders)).sorted()
    }

    /// The canonical request (the SigV4 spec's task 1).
    static func canonicalRequest(
        method: String, rawPath: String, rawQuery: String, headers: [HTTPHeader],
        signedHeaderNames: [String], payloadHash: String
    ) -> String {
        let canonicalHeaders = signedHeaderNames.map { name in
            let values = headers.filter { $0.name.lowercased() == name }.map { collapseWhitespace($0.value) }
            return "\(name):\(values.joined(separator: ","))\n"
        }.joined()
        return [
            method.uppercased(), canonicalURI(rawPath), canonicalQuery(rawQuery), canonicalHeaders,
            signedHeaderNames.joined(separator: ";"), payloadHash,
        ].joined(separator: "\n")
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    static func credentialScope(day: String, region: String, service: String) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    /// The string to sign (task 2).
    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, hexSHA256(Array(canonicalRequest.utf8))].joined(separator: "\n")
    }

    /// The hex signature (tasks 3 and 4).
    static func signature(secret: String, day: String, region: String, service: String, stringToSign: String) -> String {
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// Lowercase hex SHA-256 of `bytes`.
    static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    // MARK: Encoding

    /// RFC 3986 percent-encoding of everything but unreserved characters
    /// (and `/` when `keepSlash`), uppercase hex.
    static func uriEncode(_ bytes: some Sequence<UInt8>, keepSlash: Bool) -> String {
        var output = [UInt8]()
        for byte in bytes {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as is.
    static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var output = [UInt8]()
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Trims and squeezes runs of whitespace to one space (SigV4's Trimall).
    private static func collapseWhitespace(_ value: String) -> String {
        value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        String(decoding: digest.flatMap { [lowerHex[Int($0 >> 4)], lowerHex[Int($0 & 0x0F)]] }, as: UTF8.self)
    }

    private static let lowerHex = Array("0123456789abcdef".utf8)
}
