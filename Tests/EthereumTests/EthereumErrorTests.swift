import Ethereum
import Testing

@Test func ethereumErrorDescribesCodeAndReason() {
    let e = EthereumError(.init("example"), "why")
    #expect(e.description == "example: why")
}
