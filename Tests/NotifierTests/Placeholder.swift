import Testing

@Test func placeholderUntilTheServiceLands() { #expect(Bool(true)) }
