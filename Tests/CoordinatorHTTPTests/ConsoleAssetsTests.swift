import CoordinatorCore
import CoordinatorHTTP
import Testing

@Suite("The console's static files")
struct ConsoleAssetsTests {
    let index = Array("<!doctype html>".utf8)

    @Test func takesPlainRelativeNamesOfServedKinds() throws {
        let assets = try ConsoleAssets(files: [
            "index.html": index, "js/app.js": [0x20], "css/console.css": [0x20], "TESTING.md": [0x20],
            "img/logo.svg": [0x20],
        ])
        #expect(assets.files["js/app.js"]?.contentType == "text/javascript; charset=utf-8")
        #expect(assets.files["css/console.css"]?.contentType == "text/css; charset=utf-8")
        #expect(assets.files["index.html"]?.contentType == "text/html; charset=utf-8")
        #expect(assets.files["TESTING.md"] == nil)  // not a served kind: left out
        #expect(assets.files.count == 4)
    }

    @Test func refusesPathsThatAreNotPlainNames() {
        for bad in [
            "../x.js", "js/../x.js", "/abs.js", "js//x.js", ".hidden.js", "js/.x.js", "a b.js", "ü.js", "js/./x.js",
        ] {
            #expect(throws: CoordinatorError.self, "\(bad)") {
                try ConsoleAssets(files: ["index.html": index, bad: [0x20]])
            }
        }
    }

    @Test func refusesATreeWithoutItsPageOrTooLarge() {
        #expect(throws: CoordinatorError.self) { try ConsoleAssets(files: ["js/app.js": [0x20]]) }
        #expect(throws: CoordinatorError.self) {
            try ConsoleAssets(files: [
                "index.html": index, "big.js": [UInt8](repeating: 0x20, count: ConsoleAssets.maxFileBytes + 1),
            ])
        }
        #expect(throws: Never.self) {
            try ConsoleAssets(files: [
                "index.html": index, "big.js": [UInt8](repeating: 0x20, count: ConsoleAssets.maxFileBytes),
            ])
        }
    }

    @Test func thePolicyAllowsNoInlineScriptOrStyle() {
        let csp = ConsoleAssets.contentSecurityPolicy
        #expect(csp.contains("script-src 'self';") && csp.contains("style-src 'self';"))
        #expect(!csp.contains("unsafe") && csp.contains("trusted-types 'none'"))
    }
}
