// An intent as the console shows it: decoded from the exact bytes its initiator signed (`documentBase64`),
// never from the coordinator's summary fields; its digest recomputed here and compared with the one the
// coordinator claims. Approvals are decoded from their own signed bytes the same way.
import { get } from './api.js';
import { fromBase64, parseStrictBytes } from './canonical.js';
import { digestOf, readSignedApproval, readSignedIntent } from './documents.js';
import { loadPolicies, memberOf } from './policy.js';
import { path, session } from './session.js';
import { verifyMemberSignature } from './signatures.js';

/** The policy document whose recomputed hash is `hash` (from the hash-checked chain), or null. */
async function policyByHash(hash) {
  try {
    const loaded = await loadPolicies();
    const v = (loaded.versions || []).find((x) => x.hash === hash);
    return v ? v.policy : null;
  } catch {
    return null;
  }
}

/** Verifies a member signature over digest bytes with the credential the policy names; `{ok}` or `{ok: false, code}`. */
export async function verifyWithPolicy(policy, signature, digestBytes) {
  if (!policy) return { ok: false, code: 'unknown_policy' };
  const member = memberOf(policy, signature.member);
  const credential = member && (member.credentials || []).find((c) => c.id === signature.credential);
  if (!credential) return { ok: false, code: 'unknown_credential' };
  return verifyMemberSignature(signature, digestBytes, credential);
}

/** The intent id rule (as Kura's identifiers). */
export function isIntentId(id) {
  return typeof id === 'string' && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(id);
}

/**
 * Fetches an intent and decodes it from its signed bytes. Returns
 * `{answer, intent, signature, document, digest, serverDigest, checks, approvals, decodeError}` where
 * `checks` lists what does not hold (`digest`, `id`, `organization`, `signer`, `signature`: the initiator's
 * signature does not verify in this browser with the credential named in the intent's policy version); `decodeError` is set when the bytes are
 * not a signed intent at all (then nothing else is shown from them).
 */
export async function loadIntent(id) {
  const answer = await get(path(`/intents/${encodeURIComponent(id)}`));
  const serverDigest = answer && answer.intent && typeof answer.intent.digest === 'string' ? answer.intent.digest : '';
  const result = { answer, serverDigest, state: answer && answer.intent ? answer.intent.state : '', checks: [] };
  try {
    if (!answer || typeof answer.documentBase64 !== 'string') throw Object.assign(new Error('missing'), { code: 'missing' });
    const value = parseStrictBytes(fromBase64(answer.documentBase64));
    const signed = readSignedIntent(value);
    result.intent = signed.intent;
    result.signature = signed.signature;
    result.document = signed.document;
    const d = await digestOf('intent', signed.document);
    result.digest = d.hex;
    result.digestBytes = d.bytes;
    if (d.hex !== serverDigest) result.checks.push('digest');
    if (signed.intent.id !== id) result.checks.push('id');
    if (signed.intent.organization !== session.org) result.checks.push('organization');
    if (signed.signature.member !== signed.intent.initiator) result.checks.push('signer');
    result.policy = await policyByHash(signed.intent.policy);
    result.signatureCheck = await verifyWithPolicy(result.policy, signed.signature, d.bytes);
    if (!result.signatureCheck.ok) result.checks.push('signature');
  } catch (err) {
    result.decodeError = err;
  }
  result.approvals = await decodeApprovals(answer && Array.isArray(answer.approvals) ? answer.approvals : [], result.digest, result.policy);
  return result;
}

/**
 * Decodes each approval from its signed bytes; `ok` says it is for this intent digest, by its listed approver, and
 * that its signature verifies in this browser with the credential `policy` (the intent's policy version) names.
 */
export async function decodeApprovals(list, intentDigest, policy = null) {
  const out = [];
  for (const item of list) {
    const entry = { listed: item, ok: false };
    try {
      const value = parseStrictBytes(fromBase64(item.documentBase64));
      const signed = readSignedApproval(value);
      entry.approval = signed.approval;
      entry.signature = signed.signature;
      const d = await digestOf('approval', signed.document);
      entry.digest = d.hex;
      entry.signatureCheck = await verifyWithPolicy(policy, signed.signature, d.bytes);
      entry.ok =
        entry.signatureCheck.ok &&
        Boolean(intentDigest) &&
        signed.approval.intent === intentDigest &&
        signed.approval.approver === item.approver &&
        signed.signature.member === signed.approval.approver;
    } catch (err) {
      entry.error = err;
    }
    out.push(entry);
  }
  return out;
}

/** Whether the decoded intent passed every check (bytes decoded, digest, id, organisation, signer, signature). */
export function trustworthy(loaded) {
  return !loaded.decodeError && loaded.checks.length === 0;
}
