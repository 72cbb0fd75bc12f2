/** GraphQL queries over HTTP (one POST each). */

export class QueryError extends Error {}

interface Answer<T> {
  data?: T | null;
  errors?: { message: string }[];
}

export function authHeaders(key: string | null): Record<string, string> {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** The data of a query; a QueryError with the server's messages when there is none. */
export async function query<T>(url: string, document: string, variables: Record<string, unknown>, key: string | null): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders(key) },
      body: JSON.stringify({ query: document, variables }),
    });
  } catch (err) {
    throw new QueryError(`the GraphQL server at ${url} does not answer (${(err as Error).message})`);
  }
  let answer: Answer<T>;
  try {
    answer = (await response.json()) as Answer<T>;
  } catch {
    throw new QueryError(`the GraphQL server answered ${response.status} without JSON`);
  }
  if (answer.errors?.length) throw new QueryError(answer.errors.map((e) => e.message).join("; "));
  if (answer.data == null) throw new QueryError(`the GraphQL server answered ${response.status} without data`);
  return answer.data;
}
