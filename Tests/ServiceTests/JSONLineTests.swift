import Foundation
import MusterService
import Testing

/// The hand-written JSON of log lines and ops bodies (JSONLine): valid JSON that
/// JSONSerialization reads back unchanged, keys in scalar order, every control
/// character escaped.
@Suite struct JSONLineTests {
    @Test func keysAreSortedByScalarsAndNestedValuesKeepTheirTypes() throws {
        let line = JSONLine.object([
            "msg": .string("hi"), "b": .int(-3), "a": .array([.bool(true), .null, .double(1.5)]),
            "_x": .object(["z": .int(1), "Y": .int(2)]),
        ])
        #expect(line.text == #"{"_x":{"Y":2,"z":1},"a":[true,null,1.5],"b":-3,"msg":"hi"}"#)
    }

    @Test func stringsAreEscapedAndReadBackUnchanged() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} del \u{7F} slash / é 🚀"
        let text = JSONLine.object(["s": .string(tricky)]).text
        #expect(!text.contains("\n") && !text.contains("\u{07}"), "no raw control character in a line")
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed["s"] == tricky)
    }

    @Test func anyValuesOfTheOpsBodiesConvert() throws {
        let optional: String? = nil
        let body: [String: Any] = [
            "id": Int64(42), "partition": Int32(3), "ok": true, "none": NSNull(), "missing": optional as Any,
            "headers": [["name": "a", "value": NSNull()]], "ratio": 0.25, "checks": ["db": "ok"],
        ]
        let text = JSONLine(any: body).text
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["id"] as? Int == 42)
        #expect(parsed["partition"] as? Int == 3)
        #expect(parsed["ok"] as? Bool == true)
        #expect(parsed["none"] is NSNull)
        #expect(parsed["missing"] is NSNull)
        #expect(parsed["ratio"] as? Double == 0.25)
        #expect((parsed["checks"] as? [String: String]) == ["db": "ok"])
        #expect(((parsed["headers"] as? [[String: Any]])?.first?["value"]) is NSNull)
        #expect(JSONLine.double(.nan).text == "null", "JSON has no NaN")
    }
}
