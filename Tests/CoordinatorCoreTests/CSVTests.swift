import CoordinatorCore
import Testing

@Suite("CSV export")
struct CSVTests {
    @Test("plain fields pass as they are; commas, quotes and line breaks are quoted (quotes doubled)")
    func quoting() {
        #expect(CSV.line(["deposit", "btc-main", "25000000"]) == "deposit,btc-main,25000000\r\n")
        #expect(CSV.line(["a,b", "say \"hi\"", "two\nlines", ""]) == "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n")
    }

    @Test("a field a spreadsheet would run as a formula is defused with a leading quote")
    func formulas() {
        #expect(
            CSV.line(["=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "1-1"])
                == "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-1,'@SUM(A1),1-1\r\n")
    }
}
