/// A store finding its own data unusable: answered as a 500 whose reason
/// the API's error middleware logs (never a crash).
enum StoreError: Error, CustomStringConvertible {
    /// A stored id that does not parse (`what` names the column or field).
    case corruptID(what: String, value: String)
    /// A row written in this transaction that cannot be read back.
    case vanished(String)

    var description: String {
        switch self {
        case .corruptID(let what, let value): "corrupt id in the database: \(what) is \"\(value)\", not a UUID"
        case .vanished(let what): "\(what) vanished in its own transaction"
        }
    }
}
