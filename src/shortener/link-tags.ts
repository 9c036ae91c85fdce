// Tags on a short URL: the rule is part of the replicated data (the codec refuses what breaks it,
// so apply can never meet a tag that would not fit an index key), and the HTTP layer checks the
// same rule to answer 400 before anything is proposed.
//
// A tag is 1..MAX_TAG_LENGTH characters of a-z, 0-9, "-", "_" and "." (lower case: a filter should
// not depend on how a user typed it; clients' input is lower-cased before the check). A link has at
// most MAX_TAGS distinct tags, kept sorted, so equal sets are equal bytes on every node.

export const MAX_TAGS = 10;
export const MAX_TAG_LENGTH = 32;
export const TAG_SYNTAX = /^[a-z0-9_.-]{1,32}$/;

export function isValidTag(tag: string): boolean {
  return TAG_SYNTAX.test(tag);
}

/** The canonical form of a valid tag list: distinct and sorted. */
export function canonicalTags(tags: readonly string[]): string[] {
  return [...new Set(tags)].sort();
}

/** Whether `tags` is already canonical and within the limits (what the codec accepts). */
export function isCanonicalTagList(tags: readonly string[]): boolean {
  if (tags.length > MAX_TAGS) return false;
  for (let i = 0; i < tags.length; i++) {
    if (!isValidTag(tags[i]!)) return false;
    if (i > 0 && !(tags[i - 1]! < tags[i]!)) return false;
  }
  return true;
}
