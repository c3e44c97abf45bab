import Foundation
import MusterDRS
import Testing

@Suite("DRS timestamps: the form real DRS sends and the Z form")
struct DRSDateTimeTests {
    @Test func parsesEveryFormDRSWrites() throws {
        let micro = try #require(DRSDateTime.date(from: "2024-09-16T04:42:46.324841+00:00"))
        #expect(abs(micro.timeIntervalSince1970 - 1_726_461_766.324841) < 0.000_001)
        #expect(DRSDateTime.date(from: "2024-09-16T04:42:46.324Z")?.timeIntervalSince1970 == 1_726_461_766.324)
        #expect(DRSDateTime.date(from: "2024-09-16T04:42:46Z")?.timeIntervalSince1970 == 1_726_461_766)
        #expect(DRSDateTime.date(from: "2024-09-16T06:42:46.5+02:00")?.timeIntervalSince1970 == 1_726_461_766.5)
        #expect(DRSDateTime.date(from: "2024-09-16T00:42:46-0400")?.timeIntervalSince1970 == 1_726_461_766)
        for bad in ["2024-09-16", "2024-09-16T04:42:46", "2024-09-16T04:42:46.Z", "2024-13-16T04:42:46Z",
                    "2024-09-16T04:42:46Zjunk", "yesterday"] {
            #expect(DRSDateTime.date(from: bad) == nil, "\(bad)")
        }
    }

    @Test func writesBothFormsAndRoundTrips() {
        let date = Date(timeIntervalSince1970: 1_726_461_766.324841)
        #expect(DRSDateTime.string(from: date, style: .aws) == "2024-09-16T04:42:46.324841+00:00")
        #expect(DRSDateTime.string(from: date) == "2024-09-16T04:42:46.324Z", "milliseconds, truncated")
        #expect(DRSDateTime.string(from: Date(timeIntervalSince1970: 1_726_461_766.9999996), style: .aws)
                == "2024-09-16T04:42:47.000000+00:00")
        let back = DRSDateTime.date(from: DRSDateTime.string(from: date, style: .aws))!
        #expect(abs(back.timeIntervalSince(date)) < 0.000_001)
    }
}
