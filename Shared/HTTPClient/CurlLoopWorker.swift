import CCurl
import Logging

/// The body of the HTTP client's thread: adds queued transfers to the multi
/// handle, drives libcurl, and completes transfers. Exists only on that thread.
final class CurlLoopWorker {
    private let loop: CurlMultiLoop
    private let multi: UnsafeMutableRawPointer
    private let logger: Logger
    private var transfers: [UInt64: CurlTransfer] = [:]
    private var idsByHandle: [UnsafeMutableRawPointer: UInt64] = [:]

    /// How long one `curl_multi_poll` may sleep; libcurl shortens it to its own
    /// next timer, and `curl_multi_wakeup` interrupts it.
    private static let pollMilliseconds: Int32 = 1000

    init(loop: CurlMultiLoop, multi: UnsafeMutableRawPointer, logger: Logger) {
        self.loop = loop
        self.multi = multi
        self.logger = logger
    }

    /// Runs until shutdown is requested, then fails what is left and returns.
    func run() {
        while true {
            let work = loop.takeWork()
            if work.stopping {
                for submission in work.pending { submission.continuation.resume(throwing: HTTPClientError.shutDown) }
                failAll(with: .shutDown)
                break
            }
            for submission in work.pending { start(submission) }
            for id in work.cancelled { abort(id) }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            completeFinished()
            _ = curl_multi_poll(multi, nil, 0, Self.pollMilliseconds, nil)
        }
        loop.finishStopping()
    }

    private func start(_ submission: Submission) {
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(submission)
        } catch {
            submission.continuation.resume(throwing: error)
            return
        }
        let code = curl_multi_add_handle(multi, transfer.easy)
        guard code == CURLM_OK else {
            let reason = String(cString: curl_multi_strerror(code))
            submission.continuation.resume(throwing: HTTPClientError.transport(
                url: HTTPClientError.redact(transfer.url), code: Int(code.rawValue), reason: reason))
            return
        }
        transfers[transfer.id] = transfer
        idsByHandle[transfer.easy] = transfer.id
    }

    private func abort(_ id: UInt64) {
        guard let transfer = remove(id) else { return }  // already finished
        logger.debug("HTTP request cancelled", metadata: ["url": "\(HTTPClientError.redact(transfer.url))"])
        transfer.continuation.resume(throwing: CancellationError())
    }

    private func completeFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let id = idsByHandle[easy], let transfer = remove(id)
            else { continue }
            let result = transfer.result(code: CCurl_msg_result(message))
            if case .failure(let error) = result {
                logger.debug("HTTP request failed", metadata: ["error": "\(error)"])
            }
            transfer.continuation.resume(with: result.mapError { $0 as any Error })
        }
    }

    /// Detaches a transfer from the multi handle; libcurl keeps its connection
    /// in the multi's cache if the transfer completed cleanly.
    private func remove(_ id: UInt64) -> CurlTransfer? {
        guard let transfer = transfers.removeValue(forKey: id) else { return nil }
        idsByHandle[transfer.easy] = nil
        _ = curl_multi_remove_handle(multi, transfer.easy)
        return transfer
    }

    private func failAll(with error: HTTPClientError) {
        for id in Array(transfers.keys) {
            remove(id)?.continuation.resume(throwing: error)
        }
    }
}
