/// A configuration value that must never be printed: its description, debug
/// description and mirror are `<redacted>`, so a configuration struct holding
/// one can be logged (ServiceLifecycle logs each service's description) or
/// dumped without the value. Code reads the value itself through the wrapped property.
@propertyWrapper
public struct Secret<Value: Sendable & Equatable>: Sendable, Equatable, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable
{
    /// The value.
    public var wrappedValue: Value

    /// Wraps `wrappedValue`.
    public init(wrappedValue: Value) {
        self.wrappedValue = wrappedValue
    }

    /// `<redacted>`.
    public var description: String { "<redacted>" }
    /// `<redacted>`.
    public var debugDescription: String { "<redacted>" }
    /// A mirror without children, so `dump` shows nothing of the value.
    public var customMirror: Mirror { Mirror(self, children: [Mirror.Child]()) }
}
