// QR Code encoder written from ISO/IEC 18004:2015 (QR Code, model 2): one byte-mode segment holding the text's
// UTF-8 bytes (no ECI header: readers take byte mode as UTF-8 or detect it), versions 1-40, error-correction
// levels L, M, Q and H, the eight data masks scored with the penalty rules of 7.8.3 over the complete symbol.
//
// qrMatrix() is pure (no DOM); qrSvg() builds an SVG element with createElementNS/setAttribute only (the console's
// CSP forbids inline style and Trusted Types 'none' forbids every HTML string sink).

const MIN_VERSION = 1;
const MAX_VERSION = 40;

// 7.9.1, Table 12: the error-correction level's two bits in the format information.
const LEVEL_BITS = { L: 0b01, M: 0b00, Q: 0b11, H: 0b10 };

// Table 9, per version 1-40: error-correction codewords in each block ...
const EC_CODEWORDS_PER_BLOCK = {
  L: [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
    28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  M: [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
    26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  Q: [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
    28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  H: [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
    30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
};
// ... and the number of blocks (both groups together; the first group holds the shorter blocks).
const BLOCK_COUNT = {
  L: [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
    8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  M: [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
    17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  Q: [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
    23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  H: [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
    25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
};

// Annex E, Table E.1: row/column coordinates of the alignment patterns' centres, per version.
const ALIGNMENT_CENTRES = [
  null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
  [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62],
  [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78], [6, 30, 56, 82], [6, 30, 58, 86],
  [6, 34, 62, 90],
  [6, 28, 50, 72, 94], [6, 26, 50, 74, 98], [6, 30, 54, 78, 102], [6, 28, 54, 80, 106], [6, 32, 58, 84, 110],
  [6, 30, 58, 86, 114], [6, 34, 62, 90, 118],
  [6, 26, 50, 74, 98, 122], [6, 30, 54, 78, 102, 126], [6, 26, 52, 78, 104, 130], [6, 30, 56, 82, 108, 134],
  [6, 34, 60, 86, 112, 138], [6, 30, 58, 86, 114, 142], [6, 34, 62, 90, 118, 146],
  [6, 30, 54, 78, 102, 126, 150], [6, 24, 50, 76, 102, 128, 154], [6, 28, 54, 80, 106, 132, 158],
  [6, 32, 58, 84, 110, 136, 162], [6, 26, 54, 82, 110, 138, 166], [6, 30, 58, 86, 114, 142, 170],
];

// 7.8.2, Table 10: the data mask conditions (i = row, j = column); a module is inverted where true.
const MASKS = [
  (i, j) => (i + j) % 2 === 0,
  (i) => i % 2 === 0,
  (i, j) => j % 3 === 0,
  (i, j) => (i + j) % 3 === 0,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0,
  (i, j) => ((i * j) % 2) + ((i * j) % 3) === 0,
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2 === 0,
  (i, j) => (((i + j) % 2) + ((i * j) % 3)) % 2 === 0,
];

// 7.5.2: GF(2^8) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1; exponent and logarithm tables for α = 2.
const GF_EXP = new Uint8Array(512);
const GF_LOG = new Uint8Array(256);
{
  let x = 1;
  for (let e = 0; e < 255; e += 1) {
    GF_EXP[e] = x;
    GF_LOG[x] = e;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let e = 255; e < 512; e += 1) GF_EXP[e] = GF_EXP[e - 255];
}

function gfMul(a, b) {
  return a === 0 || b === 0 ? 0 : GF_EXP[GF_LOG[a] + GF_LOG[b]];
}

// Annex A: the generator polynomial of degree n is (x - α^0)(x - α^1)...(x - α^(n-1)); coefficients from x^n down
// (the leading 1 included). In GF(2^8) subtraction is addition (XOR).
const generators = new Map();
function generator(n) {
  let g = generators.get(n);
  if (g) return g;
  g = [1];
  for (let i = 0; i < n; i += 1) {
    const next = new Array(g.length + 1).fill(0);
    const root = GF_EXP[i];
    for (let k = 0; k < g.length; k += 1) {
      next[k] ^= g[k];                 // g(x) * x
      next[k + 1] ^= gfMul(g[k], root); // g(x) * α^i
    }
    g = next;
  }
  generators.set(n, g);
  return g;
}

// 7.5.2: the error-correction codewords are the remainder of data(x) * x^n divided by the generator of degree n.
function reedSolomon(data, n) {
  const g = generator(n);
  const remainder = new Array(n).fill(0);
  for (const byte of data) {
    const factor = byte ^ remainder[0];
    remainder.shift();
    remainder.push(0);
    for (let k = 0; k < n; k += 1) remainder[k] ^= gfMul(g[k + 1], factor);
  }
  return remainder;
}

// BCH codes (Annex C and D): the remainder of data * x^(degree of generator) divided by the generator.
function bchRemainder(data, generatorPoly, generatorDegree) {
  let value = data << generatorDegree;
  for (let bit = 31 - Math.clz32(value); bit >= generatorDegree; bit -= 1) {
    if (value & (1 << bit)) value ^= generatorPoly << (bit - generatorDegree);
  }
  return value;
}

// 7.9.1: 2 level bits and 3 mask bits, BCH(15,5) with G(x) = x^10+x^8+x^5+x^4+x^2+x+1, XOR 101010000010010.
function formatBits(ecc, mask) {
  const data = (LEVEL_BITS[ecc] << 3) | mask;
  return ((data << 10) | bchRemainder(data, 0b10100110111, 10)) ^ 0b101010000010010;
}

// 7.10: 6 version bits, BCH(18,6) with G(x) = x^12+x^11+x^10+x^9+x^8+x^5+x^2+1 (versions 7 and up).
function versionBits(version) {
  return (version << 12) | bchRemainder(version, 0b1111100100101, 12);
}

// The symbol under construction: `dark` holds the module colours, `fixed` marks function patterns and the reserved
// format and version areas (never data, never masked).
class QrSymbol {
  constructor(version) {
    this.version = version;
    this.size = 17 + 4 * version;
    this.dark = new Uint8Array(this.size * this.size);
    this.fixed = new Uint8Array(this.size * this.size);
    this.drawFunctionPatterns();
  }

  set(row, col, isDark) {
    const k = row * this.size + col;
    this.dark[k] = isDark ? 1 : 0;
    this.fixed[k] = 1;
  }

  drawFunctionPatterns() {
    const n = this.size;
    // 6.3.3 finder patterns (7x7) with their light separators, in three corners.
    for (const [top, left] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
      for (let r = -1; r <= 7; r += 1) {
        for (let c = -1; c <= 7; c += 1) {
          const row = top + r;
          const col = left + c;
          if (row < 0 || row >= n || col < 0 || col >= n) continue;
          const inside = r >= 0 && r <= 6 && c >= 0 && c <= 6;
          const ring = r === 0 || r === 6 || c === 0 || c === 6;
          const core = r >= 2 && r <= 4 && c >= 2 && c <= 4;
          this.set(row, col, inside && (ring || core));
        }
      }
    }
    // 6.3.5 timing patterns: row 6 and column 6 between the separators, dark on even coordinates.
    for (let i = 8; i < n - 8; i += 1) {
      this.set(6, i, i % 2 === 0);
      this.set(i, 6, i % 2 === 0);
    }
    // 6.3.6 alignment patterns (5x5), at every pair of centres except the three that would overlap a finder.
    const centres = ALIGNMENT_CENTRES[this.version];
    const last = centres[centres.length - 1];
    for (const r of centres) {
      for (const c of centres) {
        if ((r === 6 && c === 6) || (r === 6 && c === last) || (r === last && c === 6)) continue;
        for (let dr = -2; dr <= 2; dr += 1) {
          for (let dc = -2; dc <= 2; dc += 1) {
            this.set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
          }
        }
      }
    }
    // 7.9.1 format information areas (reserved now, written after masking) and the dark module at (4V+9, 8).
    for (let i = 0; i <= 8; i += 1) {
      if (i !== 6) {
        this.set(8, i, false);
        this.set(i, 8, false);
      }
    }
    for (let i = 0; i < 8; i += 1) {
      this.set(8, n - 1 - i, false);
      this.set(n - 1 - i, 8, false);
    }
    this.set(n - 8, 8, true);
    // 7.10 version information areas, two blocks of 6x3 (version 7 and up).
    if (this.version >= 7) {
      for (let i = 0; i < 18; i += 1) {
        this.set(n - 11 + (i % 3), Math.floor(i / 3), false);
        this.set(Math.floor(i / 3), n - 11 + (i % 3), false);
      }
    }
  }

  dataModuleCount() {
    let count = 0;
    for (const f of this.fixed) count += f ? 0 : 1;
    return count;
  }

  // 7.7.3: two-module-wide columns from the right edge, up then down in turn, skipping the vertical timing column;
  // each codeword's bits most significant first, into every module that is not fixed. Remainder bits stay light.
  placeCodewords(codewords) {
    const n = this.size;
    const bitCount = codewords.length * 8;
    let bit = 0;
    let upward = true;
    for (let right = n - 1; right > 0; right -= 2) {
      if (right === 6) right = 5;
      for (let step = 0; step < n; step += 1) {
        const row = upward ? n - 1 - step : step;
        for (const col of [right, right - 1]) {
          const k = row * n + col;
          if (this.fixed[k]) continue;
          this.dark[k] = bit < bitCount ? (codewords[bit >> 3] >> (7 - (bit & 7))) & 1 : 0;
          bit += 1;
        }
      }
      upward = !upward;
    }
  }

  // 7.8: a copy of the symbol with the mask applied to the data modules and the format (and version) information
  // written in.
  masked(mask, ecc) {
    const n = this.size;
    const dark = this.dark.slice();
    const condition = MASKS[mask];
    for (let row = 0; row < n; row += 1) {
      for (let col = 0; col < n; col += 1) {
        const k = row * n + col;
        if (!this.fixed[k] && condition(row, col)) dark[k] ^= 1;
      }
    }
    // 7.9.1, Figure 25: bit 14 is the most significant. Around the top-left finder: bits 0-5 down column 8 (rows
    // 0-5), bit 6 at row 7, bit 7 at (8, 8), bit 8 at column 7, bits 9-14 along row 8 from column 5 to column 0.
    // The second copy: bits 0-7 along row 8 from the right edge leftwards, bits 8-14 down column 8 in the bottom
    // rows n-7 .. n-1.
    const f = formatBits(ecc, mask);
    const fbit = (i) => (f >> i) & 1;
    for (let i = 0; i <= 5; i += 1) dark[i * n + 8] = fbit(i);
    dark[7 * n + 8] = fbit(6);
    dark[8 * n + 8] = fbit(7);
    dark[8 * n + 7] = fbit(8);
    for (let i = 9; i <= 14; i += 1) dark[8 * n + (14 - i)] = fbit(i);
    for (let i = 0; i <= 7; i += 1) dark[8 * n + (n - 1 - i)] = fbit(i);
    for (let i = 8; i <= 14; i += 1) dark[(n - 15 + i) * n + 8] = fbit(i);
    // 7.10, Figure 27: bit i (0 = least significant) at row n-11 + i mod 3, column floor(i / 3) in the bottom-left
    // block, transposed in the top-right block.
    if (this.version >= 7) {
      const v = versionBits(this.version);
      for (let i = 0; i < 18; i += 1) {
        const b = (v >> i) & 1;
        dark[(n - 11 + (i % 3)) * n + Math.floor(i / 3)] = b;
        dark[Math.floor(i / 3) * n + (n - 11 + (i % 3))] = b;
      }
    }
    return dark;
  }
}

// Total codewords of a version: the modules left after the function patterns and reserved areas, 8 to a codeword.
const totalCodewordsCache = new Map();
function totalCodewords(version) {
  let total = totalCodewordsCache.get(version);
  if (total === undefined) {
    total = Math.floor(new QrSymbol(version).dataModuleCount() / 8);
    totalCodewordsCache.set(version, total);
  }
  return total;
}

function dataCodewords(version, ecc) {
  return totalCodewords(version) - BLOCK_COUNT[ecc][version - 1] * EC_CODEWORDS_PER_BLOCK[ecc][version - 1];
}

// 7.4.1, Table 3: the character count indicator of byte mode is 8 bits in versions 1-9, 16 bits from version 10.
function countBits(version) {
  return version <= 9 ? 8 : 16;
}

function fits(byteCount, version, ecc) {
  return byteCount < 2 ** countBits(version) && 4 + countBits(version) + 8 * byteCount <= 8 * dataCodewords(version, ecc);
}

// 7.4: mode indicator 0100, character count, the bytes, a terminator of up to four 0 bits, 0 bits to the next
// codeword boundary, then the pad codewords 11101100 and 00010001 in turn.
function dataCodewordSequence(bytes, version, ecc) {
  const capacity = dataCodewords(version, ecc);
  const bits = [];
  const put = (value, length) => {
    for (let i = length - 1; i >= 0; i -= 1) bits.push((value >>> i) & 1);
  };
  put(0b0100, 4);
  put(bytes.length, countBits(version));
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, capacity * 8 - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) {
    let byte = 0;
    for (let k = 0; k < 8; k += 1) byte = (byte << 1) | bits[i + k];
    out.push(byte);
  }
  for (let pad = 0; out.length < capacity; pad ^= 1) out.push(pad === 0 ? 0b11101100 : 0b00010001);
  return out;
}

// 7.6: the data codewords cut into blocks (the shorter blocks first), each block's error-correction codewords,
// then data and error-correction codewords each interleaved block by block.
function finalCodewords(data, version, ecc) {
  const total = totalCodewords(version);
  const blockCount = BLOCK_COUNT[ecc][version - 1];
  const ecLength = EC_CODEWORDS_PER_BLOCK[ecc][version - 1];
  const shortBlocks = blockCount - (total % blockCount);
  const shortDataLength = Math.floor(total / blockCount) - ecLength;
  const dataBlocks = [];
  const ecBlocks = [];
  let offset = 0;
  for (let b = 0; b < blockCount; b += 1) {
    const length = shortDataLength + (b < shortBlocks ? 0 : 1);
    const block = data.slice(offset, offset + length);
    offset += length;
    dataBlocks.push(block);
    ecBlocks.push(reedSolomon(block, ecLength));
  }
  const out = [];
  for (let i = 0; i <= shortDataLength; i += 1) {
    for (const block of dataBlocks) if (i < block.length) out.push(block[i]);
  }
  for (let i = 0; i < ecLength; i += 1) {
    for (const block of ecBlocks) out.push(block[i]);
  }
  return out;
}

// 7.8.3.1, Table 11: the penalty of a complete symbol (function patterns, format and version information included):
// N1 = 3 (+1 per module past 5) for each run of 5 or more same-coloured modules in a row or column; N2 = 3 for each
// 2x2 block of one colour (an m x n block scores 3(m-1)(n-1), the number of 2x2 blocks in it); N3 = 40 for each
// dark-light-dark-dark-dark-light-dark (1:1:3:1:1) in a row or column with 4 light modules before or after it (the
// light quiet zone counts outside the symbol); N4 = 10 for each full 5 % that the dark proportion is away from 50 %.
function penalty(dark, n) {
  let n1 = 0;
  let n2 = 0;
  let n3 = 0;
  const line = new Uint8Array(n);
  const scoreLine = () => {
    let run = 1;
    for (let i = 1; i <= n; i += 1) {
      if (i < n && line[i] === line[i - 1]) {
        run += 1;
      } else {
        if (run >= 5) n1 += 3 + (run - 5);
        run = 1;
      }
    }
    const lightAt = (i) => i < 0 || i >= n || line[i] === 0;
    for (let i = 0; i + 7 <= n; i += 1) {
      if (line[i] && !line[i + 1] && line[i + 2] && line[i + 3] && line[i + 4] && !line[i + 5] && line[i + 6]) {
        const before = lightAt(i - 1) && lightAt(i - 2) && lightAt(i - 3) && lightAt(i - 4);
        const after = lightAt(i + 7) && lightAt(i + 8) && lightAt(i + 9) && lightAt(i + 10);
        if (before || after) n3 += 40;
      }
    }
  };
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) line[c] = dark[r * n + c];
    scoreLine();
  }
  for (let c = 0; c < n; c += 1) {
    for (let r = 0; r < n; r += 1) line[r] = dark[r * n + c];
    scoreLine();
  }
  let darkCount = 0;
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) {
      const k = r * n + c;
      darkCount += dark[k];
      if (r + 1 < n && c + 1 < n) {
        const v = dark[k];
        if (dark[k + 1] === v && dark[k + n] === v && dark[k + n + 1] === v) n2 += 3;
      }
    }
  }
  const total = n * n;
  const n4 = 10 * Math.floor(Math.abs(20 * darkCount - 10 * total) / total);
  return [n1, n2, n3, n4];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkInteger(name, value, min, max) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`QR code: ${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
}

function toMatrix(dark, n) {
  const rows = [];
  for (let r = 0; r < n; r += 1) {
    const row = new Array(n);
    for (let c = 0; c < n; c += 1) row[c] = dark[r * n + c] === 1;
    rows.push(row);
  }
  return rows;
}

// The QR code of `text` (its UTF-8 bytes in one byte-mode segment): the smallest version that holds it at level
// `ecc` (or `version`), with the mask of lowest penalty (or `mask`). Throws an Error when the text does not fit.
export function qrMatrix(text, { ecc = 'M', mask = undefined, version = undefined } = {}) {
  if (typeof text !== 'string') throw new Error('QR code: the text must be a string');
  if (LONE_SURROGATE.test(text)) throw new Error('QR code: the text is not well-formed Unicode (a lone surrogate)');
  if (!Object.hasOwn(LEVEL_BITS, ecc)) throw new Error(`QR code: error-correction level must be L, M, Q or H (got ${String(ecc)})`);
  if (mask !== undefined) checkInteger('mask', mask, 0, 7);
  if (version !== undefined) checkInteger('version', version, MIN_VERSION, MAX_VERSION);
  const bytes = new TextEncoder().encode(text);
  let chosen = version;
  if (chosen === undefined) {
    for (let v = MIN_VERSION; v <= MAX_VERSION && chosen === undefined; v += 1) {
      if (fits(bytes.length, v, ecc)) chosen = v;
    }
    if (chosen === undefined) {
      const max = Math.floor((8 * dataCodewords(MAX_VERSION, ecc) - 4 - countBits(MAX_VERSION)) / 8);
      throw new Error(`QR code: the text is ${bytes.length} bytes in UTF-8, more than the ${max} bytes that fit in the `
        + `largest QR code (version ${MAX_VERSION}) at error-correction level ${ecc}`);
    }
  } else if (!fits(bytes.length, chosen, ecc)) {
    throw new Error(`QR code: the text is ${bytes.length} bytes in UTF-8, too long for version ${chosen} at `
      + `error-correction level ${ecc}`);
  }
  const symbol = new QrSymbol(chosen);
  symbol.placeCodewords(finalCodewords(dataCodewordSequence(bytes, chosen, ecc), chosen, ecc));
  let best = mask;
  let bestDark = mask === undefined ? null : symbol.masked(mask, ecc);
  if (mask === undefined) {
    let bestScore = Infinity;
    for (let m = 0; m < MASKS.length; m += 1) {
      const dark = symbol.masked(m, ecc);
      const score = penalty(dark, symbol.size).reduce((a, b) => a + b, 0);
      if (score < bestScore) {
        bestScore = score;
        best = m;
        bestDark = dark;
      }
    }
  }
  return { version: chosen, mask: best, ecc, modules: toMatrix(bestDark, symbol.size) };
}

// The four penalty scores [N1, N2, N3, N4] of a module matrix (for tests and for a look at the mask choice).
export function qrPenalty(modules) {
  const n = modules.length;
  const dark = new Uint8Array(n * n);
  modules.forEach((row, r) => row.forEach((v, c) => { dark[r * n + c] = v ? 1 : 0; }));
  return penalty(dark, n);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// The QR code of `text` as an <svg role="img"> with a <title> (the accessible name: `title`, else the text), a
// light background over the quiet zone and one black <path>; the size is (modules + 2 * quietZone) * moduleSize
// pixels and the viewBox counts modules, so CSS may scale it.
export function qrSvg(text, { moduleSize = 4, quietZone = 4, title = undefined, ecc = 'M' } = {}) {
  checkInteger('moduleSize', moduleSize, 1, 64);
  checkInteger('quietZone', quietZone, 0, 64);
  const { modules } = qrMatrix(text, { ecc });
  const n = modules.length;
  const extent = n + 2 * quietZone;
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${extent} ${extent}`);
  svg.setAttribute('width', String(extent * moduleSize));
  svg.setAttribute('height', String(extent * moduleSize));
  svg.setAttribute('role', 'img');
  svg.setAttribute('shape-rendering', 'crispEdges');
  const titleElement = document.createElementNS(SVG_NS, 'title');
  titleElement.textContent = title === undefined ? text : String(title);
  svg.append(titleElement);
  const background = document.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', String(extent));
  background.setAttribute('height', String(extent));
  background.setAttribute('fill', '#ffffff');
  svg.append(background);
  const runs = [];
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n;) {
      if (!modules[r][c]) {
        c += 1;
        continue;
      }
      let end = c;
      while (end < n && modules[r][end]) end += 1;
      runs.push(`M${c + quietZone} ${r + quietZone}h${end - c}v1h-${end - c}z`);
      c = end;
    }
  }
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', runs.join(''));
  path.setAttribute('fill', '#000000');
  svg.append(path);
  return svg;
}
