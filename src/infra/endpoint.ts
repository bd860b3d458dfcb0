/** A host and port: where something listens, as seen from where it is used. */
export interface Endpoint {
  host: string;
  port: number;
}
