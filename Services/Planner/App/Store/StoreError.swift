/// A store finding its own data unusable: answered as a 500 whose reason
/// the API's error middleware logs (never a crash).
enum StoreError: Error, CustomStringConvertible {
    /// A row written in this transaction that cannot be read back.
    case vanished(String)

    var description: String {
        switch self {
        case .vanished(let what): "\(what) vanished in its own transaction"
        }
    }
}
