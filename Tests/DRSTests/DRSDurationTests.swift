import MusterDRS
import Testing

@Suite("DRS durations: lagDuration's ISO 8601 forms")
struct DRSDurationTests {
    @Test func parsesTheFormsDRSMayWrite() {
        #expect(DRSDuration.seconds(from: "PT0S") == 0)
        #expect(DRSDuration.seconds(from: "PT12S") == 12)
        #expect(DRSDuration.seconds(from: "PT1M30.5S") == 90.5)
        #expect(DRSDuration.seconds(from: "PT2H") == 7200)
        #expect(DRSDuration.seconds(from: "P1DT2H3M4S") == 93_784)
        #expect(DRSDuration.seconds(from: "P2D") == 172_800)
        #expect(DRSDuration.seconds(from: "pt0,25s") == 0.25, "lower case and a decimal comma are ISO 8601 too")
    }

    @Test func refusesWhatItCannotMeasure() {
        for bad in ["", "P", "PT", "12", "PT5", "P1M", "P1Y", "P1W", "PT1D", "P1H", "PTT1S", "PT-5S", "PT1..2S", "5 seconds"] {
            #expect(DRSDuration.seconds(from: bad) == nil, "\(bad)")
        }
    }

    @Test func writesWhatItReads() {
        #expect(DRSDuration.string(seconds: 0) == "PT0S")
        #expect(DRSDuration.string(seconds: 42) == "PT42S")
        #expect(DRSDuration.string(seconds: 3.25) == "PT3.25S")
        #expect(DRSDuration.string(seconds: -1) == "PT0S")
        for value in [0.001, 17.5, 3599.999, 86_400] {
            #expect(DRSDuration.seconds(from: DRSDuration.string(seconds: value)) == value)
        }
    }
}
