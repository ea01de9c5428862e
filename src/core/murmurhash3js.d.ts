/** The slice of `murmurhash3js` (which ships no types) that `bucket.ts` uses. */
declare module 'murmurhash3js' {
  const murmurHash3: {
    readonly x86: {
      /** MurmurHash3 x86 32-bit of a string's UTF-16 code units (low byte of each), as an unsigned int. */
      hash32(key: string, seed?: number): number
    }
  }
  export default murmurHash3
}
