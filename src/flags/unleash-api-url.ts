/** Unleash's API base URL, as both the client SDK and the admin API want it. */

/**
 * `https://unleash.example.com` and `https://unleash.example.com/api/` both
 * become `https://unleash.example.com/api`: the client appends `/client/features`,
 * the admin calls append `/admin/…`.
 */
export function unleashApiUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '')
  return /\/api$/.test(trimmed) ? trimmed : `${trimmed}/api`
}

/** The URL without credentials, query or fragment: what error messages may show. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
  } catch {
    return '(an invalid URL)'
  }
}
