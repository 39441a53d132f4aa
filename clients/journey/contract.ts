// The contract check: every request the typed client sends and every response it gets
// is held against the OpenAPI document the server itself serves. A violation is
// recorded, not thrown, so one run reports all of them; the journey fails at the end if
// any was recorded.
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { Middleware } from "openapi-fetch";

export type Json = Record<string, unknown>;
export const isRecord = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
// Array.isArray narrows to any[]: this keeps the elements unknown.
export const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

// Headers any HTTP exchange carries; any other must be in the document.
const TRANSPORT_HEADERS = new Set([
  "content-type", "content-length", "date", "connection", "keep-alive",
  "transfer-encoding", "vary", "server", "accept", "accept-encoding", "authorization",
]);
// Absolute ids, so `$ref`s resolve the same from whatever schema compiles them.
const BASE = "https://contract.invalid/";

// A schema where it is *used* (a response body, a property, an array item, a map
// value) gets `unevaluatedProperties: false` unless it says what extra properties may
// be. Not component roots nor allOf/oneOf members: with the document's allOf extensions
// (CampaignView = Campaign + status) they would refuse each other's properties, while
// unevaluatedProperties at the point of use sees through $ref, allOf and oneOf. A
// free-form `{"type": "object"}` thus admits nothing, as its generated type
// (`Record<string, never>`) says. Every node is named in `$comment` (Campaign.stores[])
// so a violation names its component and field, not a list index.
function used(schema: unknown, name: string): unknown {
  if (!isRecord(schema)) return schema;
  const out = inner(schema, name);
  if (!("additionalProperties" in out) && !("unevaluatedProperties" in out)) {
    out["unevaluatedProperties"] = false;
  }
  return out;
}

// Every object node also lists its optional properties (`x-optional`), so the
// `x-optional` keyword can count how often each is absent, null or sent.
function inner(schema: Json, name: string): Json {
  const out: Json = { ...schema, $comment: name };
  const ref = schema["$ref"];
  if (typeof ref === "string") out["$ref"] = ref.replace("#/components/schemas/", `${BASE}doc#/$defs/`);
  const props = schema["properties"];
  if (isRecord(props)) {
    out["properties"] = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, used(v, `${name}.${k}`)]));
    const required = isArray(schema["required"]) ? schema["required"] : [];
    out["x-optional"] = Object.keys(props).filter((k) => !required.includes(k));
  }
  if (isRecord(schema["items"])) out["items"] = used(schema["items"], `${name}[]`);
  if (isRecord(schema["additionalProperties"])) {
    out["additionalProperties"] = used(schema["additionalProperties"], `${name}{}`);
  }
  for (const key of ["allOf", "oneOf", "anyOf"]) {
    const list = schema[key];
    if (isArray(list)) out[key] = list.map((m) => (isRecord(m) ? inner(m, name) : m));
  }
  return out;
}

// How an optional property was found, over the run.
interface Presence {
  objects: number;
  sent: number;
  nulls: number;
  operations: Set<string>;
}

export interface Violation {
  problem: string;
  operations: Set<string>;
  examples: Set<string>;
  seen: number;
}

export class Contract {
  readonly violations = new Map<string, Violation>();
  private readonly ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, strictTypes: false });
  private readonly validators = new Map<string, ValidateFunction | string>();
  private readonly paths: Json;
  private readonly presence = new Map<string, Presence>();
  // The response being validated ("" otherwise: request bodies are not counted).
  private current = "";

  constructor(document: unknown) {
    if (!isRecord(document) || !isRecord(document["paths"]) || !isRecord(document["components"])) {
      throw new Error("the served /openapi.json is not an OpenAPI document");
    }
    this.paths = document["paths"];
    addFormats.default(this.ajv);
    // OpenAPI's own formats, checked: an i64 sent where the document says int32 shows.
    this.ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
    this.ajv.addFormat("int64", { type: "number", validate: Number.isInteger });
    this.ajv.addFormat("double", { type: "number", validate: () => true });
    this.ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs"]);
    const schemas = isRecord(document["components"]["schemas"]) ? document["components"]["schemas"] : {};
    const defs = Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, isRecord(v) ? inner(v, k) : v]));
    this.ajv.addSchema({ $id: `${BASE}doc`, $defs: defs });
    // Counts, never fails: see `optionalButAlwaysSent`.
    this.ajv.addKeyword({
      keyword: "x-optional",
      schemaType: "array",
      validate: (optional: unknown, data: unknown, parent: unknown) => {
        const name = isRecord(parent) && typeof parent["$comment"] === "string" ? parent["$comment"] : "?";
        if (isRecord(data) && isArray(optional)) {
          for (const k of optional) if (typeof k === "string") this.count(`${name}.${k}`, data, k);
        }
        return true;
      },
    });
  }

  private count(field: string, data: Json, key: string): void {
    if (this.current === "") return;
    let p = this.presence.get(field);
    if (!p) {
      p = { objects: 0, sent: 0, nulls: 0, operations: new Set() };
      this.presence.set(field, p);
    }
    p.objects += 1;
    if (key in data) p.sent += 1;
    if (data[key] === null) p.nulls += 1;
    p.operations.add(this.current);
  }

  // One entry per kind of mismatch, with every operation it was seen in.
  private record(operation: string, problem: string, example = "", live = true): void {
    let v = this.violations.get(problem);
    if (!v) {
      v = { problem, operations: new Set(), examples: new Set(), seen: 0 };
      this.violations.set(problem, v);
      if (live) console.log(`  contract: ${problem}${example ? ` (${example})` : ""} [${operation}]`);
    }
    v.operations.add(operation);
    if (example && v.examples.size < 5) v.examples.add(example);
    v.seen += 1;
  }

  private operation(method: string, schemaPath: string): { id: string; op: Json } | undefined {
    const item = this.paths[schemaPath];
    const op = isRecord(item) ? item[method.toLowerCase()] : undefined;
    if (!isRecord(op)) {
      this.record(`${method} ${schemaPath}`, `${method} ${schemaPath} is not in the document`);
      return undefined;
    }
    return { id: typeof op["operationId"] === "string" ? op["operationId"] : `${method} ${schemaPath}`, op };
  }

  private validator(name: string, schema: unknown): ValidateFunction | string {
    let v = this.validators.get(name);
    if (v === undefined) {
      try {
        v = this.ajv.compile({ $id: `${BASE}response/${this.validators.size}`, allOf: [used(schema, name)] });
      } catch (e) {
        v = `the document's schema does not compile: ${e instanceof Error ? e.message : String(e)}`;
      }
      this.validators.set(name, v);
    }
    return v;
  }

  // Why the document refuses these parameters and JSON body for the operation (none:
  // it allows them).
  refuses(method: string, schemaPath: string, request: { query?: Json; header?: Json; body?: unknown }): string[] {
    const found = this.operation(method, schemaPath);
    if (!found) return ["not in the document"];
    const why: string[] = [];
    const check = (name: string, schema: unknown, value: unknown) => {
      const v = this.validator(name, schema);
      if (typeof v === "string") why.push(v);
      else if (!v(value)) for (const e of v.errors ?? []) why.push(`${name}${e.instancePath}: ${e.message ?? e.keyword}`);
    };
    const params = isArray(found.op["parameters"]) ? found.op["parameters"].filter(isRecord) : [];
    const given: [string, Json][] = [["query", request.query ?? {}], ["header", request.header ?? {}]];
    for (const [place, values] of given) {
      for (const [name, value] of Object.entries(values)) {
        const p = params.find((q) => q["in"] === place && String(q["name"]).toLowerCase() === name.toLowerCase());
        if (p) check(`${found.id} ${place} ${name}`, p["schema"], value);
        else why.push(`no ${place} parameter ${name}`);
      }
    }
    if (request.body !== undefined) {
      const rb = found.op["requestBody"];
      const media = isRecord(rb) && isRecord(rb["content"]) ? rb["content"]["application/json"] : undefined;
      if (isRecord(media)) check(`${found.id} request body`, media["schema"], request.body);
      else why.push("no JSON request body");
    }
    return why;
  }

  // Headers the request carries beyond transport must be documented header parameters.
  private checkRequest(request: Request, schemaPath: string): void {
    const found = this.operation(request.method, schemaPath);
    if (!found) return;
    const params = isArray(found.op["parameters"]) ? found.op["parameters"] : [];
    const declared = new Set(
      params.filter(isRecord).filter((p) => p["in"] === "header").map((p) => String(p["name"]).toLowerCase()),
    );
    request.headers.forEach((_, name) => {
      if (!TRANSPORT_HEADERS.has(name) && !declared.has(name)) {
        this.record(found.id, `request header ${name} is needed but is not a documented parameter`);
      }
    });
  }

  private async checkResponse(request: Request, response: Response, schemaPath: string): Promise<void> {
    const found = this.operation(request.method, schemaPath);
    if (!found) return;
    const status = String(response.status);
    const where = `${found.id} ${status}`;
    const responses = isRecord(found.op["responses"]) ? found.op["responses"] : {};
    const documented = responses[status] ?? responses[`${status[0]}XX`] ?? responses["default"];
    if (!isRecord(documented)) {
      this.record(where, `${found.id} answers ${status}, not a documented status (${Object.keys(responses).join(", ")})`);
      return;
    }

    const declaredHeaders = isRecord(documented["headers"]) ? documented["headers"] : {};
    const declared = new Set(Object.keys(declaredHeaders).map((h) => h.toLowerCase()));
    response.headers.forEach((value, name) => {
      if (!TRANSPORT_HEADERS.has(name) && !declared.has(name)) {
        this.record(where, `response header ${name} is sent but not declared`, `${name}: ${value}`);
      }
    });
    for (const [name, h] of Object.entries(declaredHeaders)) {
      if (isRecord(h) && h["required"] === true && !response.headers.has(name)) {
        this.record(where, `response header ${name} is declared required but not sent`);
      }
    }

    const text = await response.clone().text();
    const contentType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const content = isRecord(documented["content"]) ? documented["content"] : undefined;
    if (!content) {
      if (text !== "") this.record(where, `${where} sends a body (${contentType || "no content type"}) where the document declares none`);
      return;
    }
    const media = content[contentType];
    if (!isRecord(media)) {
      this.record(where, `${where}: content type ${JSON.stringify(contentType)}, documented ${Object.keys(content).join(", ")}`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.record(where, `${where}: the body is not JSON`, text.slice(0, 80));
      return;
    }
    const schema = media["schema"];
    const ref = isRecord(schema) && typeof schema["$ref"] === "string" ? schema["$ref"].split("/").pop() : undefined;
    const name = ref ?? `${where} ${contentType}`;
    const check = this.validator(name, schema);
    if (typeof check === "string") return this.record(where, `${where}: ${check}`);
    this.current = where;
    const valid = check(body);
    this.current = "";
    if (!valid) for (const e of check.errors ?? []) this.record(where, ...describe(e, body));
  }

  readonly middleware: Middleware = {
    onRequest: ({ request, schemaPath }) => {
      this.checkRequest(request, schemaPath);
      return undefined;
    },
    onResponse: async ({ request, response, schemaPath }) => {
      await this.checkResponse(request, response, schemaPath);
      return undefined;
    },
  };

  // An optional property the server sent every time it sent the object (serde writes
  // `None` as null, and a `#[serde(default)]` field is still always written): the
  // document should say required (nullable where null was seen), or a typed client
  // handles "absent" for nothing. Judged on what this run saw, so it is reported only
  // once every object seen had it.
  private optionalButAlwaysSent(): void {
    for (const [field, p] of this.presence) {
      if (p.sent < p.objects) continue;
      const how = p.nulls > 0 ? `, null in ${p.nulls}` : "";
      const ops = [...p.operations].join(", ");
      this.record(ops, `${field}: optional in the document, but sent in all ${p.objects} objects seen${how}`, "", false);
    }
  }

  report(): string[] {
    this.optionalButAlwaysSent();
    return [...this.violations.values()].map((v) =>
      `${v.problem}\n      in: ${[...v.operations].join(", ")}${v.examples.size ? `\n      e.g. ${[...v.examples].join("; ")}` : ""}`);
  }
}

// The component and field a failing schema node is (see `used`).
function named(e: ErrorObject): string {
  const parent: unknown = e.parentSchema;
  const name = isRecord(parent) ? parent["$comment"] : undefined;
  return typeof name === "string" ? name : `(at ${e.instancePath || "/"})`;
}

// [the problem, an example]: undeclared fields by name, other errors by keyword.
function describe(e: ErrorObject, body: unknown): [string, string] {
  let value: unknown = body;
  for (const part of e.instancePath.split("/").slice(1)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    value = isArray(value) ? value[Number(key)] : isRecord(value) ? value[key] : undefined;
  }
  const extra = isRecord(e.params) ? e.params["unevaluatedProperty"] : undefined;
  if (typeof extra === "string") {
    const sent = isRecord(value) ? JSON.stringify(value[extra]) : "";
    return [`${named(e)}: has fields the document does not declare`, `${e.instancePath}/${extra}: ${sent?.slice(0, 60)}`];
  }
  return [`${named(e)}: ${e.message ?? e.keyword}`, `${e.instancePath || "/"}: ${JSON.stringify(value)?.slice(0, 80)}`];
}
