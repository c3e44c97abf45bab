import MusterCLIKit
import Testing

@Suite("SSE parser")
struct SSEParserTests {
    @Test func parsesFramesSplitAnywhereWithCommentsAndLineEndings() {
        let text = "retry: 1000\n\n: heartbeat\n\nid: 7\nevent: wave.started\ndata: {\"a\":1}\n\r\nid: 8\r\ndata: one\r\ndata: two\r\n\r\ndata: no id\n\n"
        let bytes = Array(text.utf8)
        // Every split point gives the same messages as one chunk.
        for split in 0...bytes.count {
            var parser = SSEParser()
            let messages = parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(messages == [
                SSEMessage(id: "7", event: "wave.started", data: "{\"a\":1}"),
                SSEMessage(id: "8", event: "message", data: "one\ntwo"),
                SSEMessage(id: "8", event: "message", data: "no id"),
            ], "split at \(split)")
            #expect(parser.comments == 1)
            #expect(parser.retryMilliseconds == 1000)
        }
    }

    @Test func anUnfinishedFrameIsNotDelivered() {
        var parser = SSEParser()
        #expect(parser.feed(Array("id: 1\ndata: x\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [SSEMessage(id: "1", event: "message", data: "x")])
    }
}
