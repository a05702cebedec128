import Governance
import Testing

@Test func refusalVocabularyIsClosedAndComplete() {
    // ATTACKS.md §3 lists 24 categories.
    #expect(RefusalCategory.all.count == 24)
    #expect(Set(RefusalCategory.all.map(\.token)).count == 24)
    #expect(RefusalCategory(token: "POLICY_ROLLBACK") == .policyRollback)
    #expect(RefusalCategory(token: "SKIP_CHECKS") == nil)
}
