/**
 * The `Authorization` value for HTTP Basic (RFC 7617): UTF-8 `user:password`
 * in base64. The caller must keep the result out of logs and messages.
 */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
