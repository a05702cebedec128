/// ECMAScript's `Number::toString(x)` for finite doubles (ECMA-262 §7.1.12.1, with "Note 2"), which
/// RFC 8785 §3.2.3 adopts for JSON numbers.
///
/// The algorithm needs the decimal digits `s` (k of them) and the exponent `n` with
/// `x = s × 10^(n−k)`, k as small as possible and, among the candidates of that length, `s × 10^(n−k)`
/// closest to x (ties to the even digit). Those are exactly the digits of the Swift standard library's
/// `Double.description`, which prints the shortest digit string that reads back as the same double
/// and, among those, the one closest to its exact value. This type takes the digits from there and
/// lays them out as §7.1.12.1 prescribes; the RFC's Appendix B table and the `rfc8785` oracle test the
/// combination.
enum ECMAScriptNumber {
    /// Appends the ECMAScript form of a finite `x`.
    static func append(_ x: Double, to out: inout [UInt8]) {
        precondition(x.isFinite, "ECMAScriptNumber.append needs a finite number")
        if x == 0 {  // Step 2: +0 and -0 are both "0".
            out.append(UInt8(ascii: "0"))
            return
        }
        if x < 0 { out.append(UInt8(ascii: "-")) }  // Step 3.
        let (digits, n) = shortestDigits(x.magnitude)
        let k = digits.count
        let zero = UInt8(ascii: "0")
        if k <= n && n <= 21 {
            // Step 6: the k digits followed by n − k zeros.
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(zero, count: n - k))
        } else if 0 < n && n <= 21 {
            // Step 7: the first n digits, a point, the other k − n.
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            // Step 8: "0.", −n zeros, the k digits.
            out.append(contentsOf: [zero, UInt8(ascii: ".")])
            out.append(contentsOf: repeatElement(zero, count: -n))
            out.append(contentsOf: digits)
        } else {
            // Steps 9 and 10: one digit, then (if k > 1) a point and the rest; "e", the sign of n − 1, |n − 1|.
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            out.append(UInt8(ascii: n - 1 > 0 ? "+" : "-"))
            out.append(contentsOf: String((n - 1).magnitude).utf8)
        }
    }

    /// The shortest round-trip digits of a finite positive `x` as ASCII (no leading or trailing
    /// zeros) and the exponent `n` with `x = 0.d₁d₂…d_k × 10^n`.
    ///
    /// `Double.description` writes either `ddd.ddd` or `d[.ddd]e±xx`; both are read here.
    static func shortestDigits(_ x: Double) -> (digits: [UInt8], n: Int) {
        var digits: [UInt8] = []
        var pointAt: Int?
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for c in x.description.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(c - UInt8(ascii: "0"))
                } else {
                    digits.append(c)
                }
            case UInt8(ascii: "."):
                pointAt = digits.count
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            case UInt8(ascii: "-"):
                exponentSign = -1
            case UInt8(ascii: "+"):
                break
            default:
                preconditionFailure("unexpected character in Double.description")
            }
        }
        var n = (pointAt ?? digits.count) + exponentSign * exponent
        let leading = digits.prefix { $0 == UInt8(ascii: "0") }.count
        digits.removeFirst(leading)
        n -= leading
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        precondition(!digits.isEmpty, "shortestDigits needs a non-zero number")
        return (digits, n)
    }
}
