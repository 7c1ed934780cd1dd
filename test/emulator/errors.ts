// Hetzner's error envelope: {"error": {"code", "message", "details"}} (hcloud-go v2.35.0
// hcloud/schema/error.go). The codes are Hetzner's (hcloud-go hcloud/error.go); the HTTP status of
// each is not in the public reference's error table, so the ones below are our choice: hcloud-go
// only looks at `status >= 400` and the code, never at the exact status.

export type ErrorCode =
  | "unauthorized"
  | "forbidden"
  | "invalid_input"
  | "json_error"
  | "not_found"
  | "locked"
  | "protected"
  | "uniqueness_error"
  | "conflict"
  | "resource_unavailable"
  | "resource_in_use"
  | "server_not_stopped"
  | "invalid_server_type"
  | "firewall_already_applied"
  | "firewall_resource_not_found"
  | "server_already_attached"
  | "server_not_attached_to_network"
  | "ip_not_available"
  | "no_subnet_available"
  | "networks_overlap"
  | "method_not_allowed"
  | "server_error";

const STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  invalid_input: 400,
  json_error: 400,
  not_found: 404,
  locked: 423,
  protected: 423,
  uniqueness_error: 409,
  conflict: 409,
  resource_unavailable: 412,
  resource_in_use: 409,
  server_not_stopped: 409,
  invalid_server_type: 400,
  firewall_already_applied: 409,
  firewall_resource_not_found: 404,
  server_already_attached: 409,
  server_not_attached_to_network: 409,
  ip_not_available: 409,
  no_subnet_available: 409,
  networks_overlap: 409,
  method_not_allowed: 405,
  server_error: 500,
};

export interface FieldError {
  name: string;
  messages: string[];
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
    this.status = STATUS[code];
  }

  body() {
    return {
      error: { code: this.code, message: this.message, details: this.fields ? { fields: this.fields } : {} },
    };
  }
}

/** invalid_input naming one field, in the shape of the reference's example. */
export function invalidField(name: string, message: string): ApiError {
  return new ApiError("invalid_input", `invalid input in field '${name}': ${message}`, [
    { name, messages: [message] },
  ]);
}

export const notFound = (what: string, id: string | number) =>
  new ApiError("not_found", `${what} with ID ${id} not found`);
