// Every buyer and staff journey of the README, through a client generated from the
// OpenAPI document the server serves, with every response held against that document
// (contract.ts). Written as a strict client would be: no `any`, no casts, narrowing on
// `error`, so where the document is not exact this either fails to type-check or fails
// at run time. A failed step is reported and the later ones still run; the exit code
// says whether everything held.
//
// Usage: node dist/journey.js http://127.0.0.1:PORT   (run by scripts/journey)
import createClient from "openapi-fetch";
import { Contract, isRecord } from "./contract.js";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];
type Order = components["schemas"]["Order"];

const base = process.argv[2] ?? "http://127.0.0.1:3000";
const tenant = { brand: "demo", store_group: "south-china" };
const campaign = "summer-clearance";
const PROBLEMS = "https://clearance.dev/problems/";

const served: unknown = await (await fetch(`${base}/openapi.json`)).json();
const contract = new Contract(served);

function api(token?: string) {
  const client = createClient<paths>({
    baseUrl: base,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  client.use(contract.middleware);
  return client;
}

// --- the two development routes (not part of the API, so not in the document) ---

async function token(role: "consumer" | "ops" | "store_manager" | "guide", sub: string): Promise<string> {
  const body = role === "consumer" ? { role, sub } : { role, sub, tenants: ["demo/south-china"] };
  const res = await fetch(`${base}/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (!isRecord(json) || typeof json["token"] !== "string") throw new Error(`/dev/token: ${JSON.stringify(json)}`);
  return json["token"];
}

async function pay(order: string): Promise<void> {
  const res = await fetch(`${base}/dev/orders/${order}/pay?tenant=demo/south-china`, { method: "POST" });
  if (!res.ok) throw new Error(`/dev/orders/${order}/pay: ${res.status} ${await res.text()}`);
}

// --- checks ---

function expect(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

// The data of a typed answer, or a failure naming the problem the server sent.
function ok<T>(r: { data: T; error?: never; response: Response } | { data?: never; error: unknown; response: Response }, what: string): T {
  if (r.error !== undefined || r.data === undefined) {
    throw new Error(`${what}: HTTP ${r.response.status} ${JSON.stringify(r.error) ?? "(no body)"}`);
  }
  return r.data;
}

// The problem of a typed error answer, checked to be the one expected.
function problem(r: { error?: Problem | undefined; response: Response }, status: number, type: string): Problem {
  const p = r.error;
  expect(p !== undefined, `expected a ${status} ${type} problem, got HTTP ${r.response.status}`);
  expect(p.status === status && p.status === r.response.status, `problem status ${p.status}, HTTP ${r.response.status}, expected ${status}`);
  expect(p.type === PROBLEMS + type, `problem type ${p.type}, expected ${PROBLEMS + type}`);
  expect(p.title.length > 0, "a problem has a title");
  return p;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function need<T>(value: T | undefined, from: string): T {
  if (value === undefined) throw new Error(`skipped: needs the result of "${from}", which failed`);
  return value;
}

const failures: string[] = [];
const notes: string[] = [];
async function step(name: string, body: () => Promise<void>): Promise<void> {
  console.log(`- ${name}`);
  try {
    await body();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    failures.push(`${name}: ${why}`);
    console.log(`  FAILED: ${why}`);
  }
}

// --- the journeys ---

const anyone = api();
const ops = api(await token("ops", "ops-1"));
const buyer = api(await token("consumer", "buyer-1"));
const line = (sku: string, size = "38") => ({ sku, size, quantity: 1 });

await step("browse: the live campaigns, revalidated with their ETag", async () => {
  const r = await anyone.GET("/v1/{brand}/{store_group}/campaigns", { params: { path: tenant } });
  const list = ok(r, "live campaigns");
  expect(list.campaigns.some((c) => c.id === campaign && c.status === "live"), `${campaign} is live`);
  const etag = r.response.headers.get("etag");
  expect(etag !== null, "a catalog page has an ETag");
  // Sent as a raw header: the document has no If-None-Match parameter (the contract
  // check reports it), so the typed `params.header` cannot carry it.
  const { error, response } = await anyone.GET("/v1/{brand}/{store_group}/campaigns", {
    params: { path: tenant },
    headers: { "If-None-Match": etag },
  });
  expect(response.status === 304, `revalidation answered ${response.status}, expected 304`);
  // openapi-fetch knows no 3xx: a 304 comes out as `error`, the empty body read as "",
  // while the type says `Problem | undefined` and `data` is then typed CampaignList. So
  // this client reads the status before `error`; the mismatch is noted, not failed,
  // since no document can change it.
  if (!isRecord(error)) notes.push(`live_campaigns 304: openapi-fetch returns error=${JSON.stringify(error)} ` +
    "(typed Problem) and data=undefined (typed CampaignList when error is falsy): read response.status first");
});

await step("browse: every product, page by page to the end (cursor)", async () => {
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const query = cursor === undefined ? { limit: 5 } : { limit: 5, cursor };
    const page = ok(await anyone.GET("/v1/{brand}/{store_group}/campaigns/{campaign}/products", {
      params: { path: { ...tenant, campaign }, query },
    }), `products page ${pages + 1}`);
    expect(page.products.length <= 5, `page ${pages + 1} has ${page.products.length} products, limit 5`);
    for (const p of page.products) {
      expect(!seen.has(p.sku), `${p.sku} listed twice`);
      seen.add(p.sku);
    }
    // The document: "absent on the last page"; the typed field is `string | null | undefined`.
    cursor = page.next_cursor ?? undefined;
    pages += 1;
  } while (cursor !== undefined && pages < 20);
  // The pages together are the whole list, as one page of 50 shows it.
  const all = ok(await anyone.GET("/v1/{brand}/{store_group}/campaigns/{campaign}/products", {
    params: { path: { ...tenant, campaign }, query: { limit: 50 } },
  }), "one page of 50");
  expect(all.products.length === seen.size && all.products.every((p) => seen.has(p.sku)) && pages > 1,
    `the ${pages} pages of 5 hold the ${all.products.length} products of one page of 50 (got ${seen.size})`);

  const sandals = ok(await anyone.GET("/v1/{brand}/{store_group}/campaigns/{campaign}/products", {
    params: { path: { ...tenant, campaign }, query: { category: "sandals", limit: 50 } },
  }), "sandals");
  expect(sandals.products.length > 0 && sandals.products.every((p) => p.category === "sandals"), "only sandals");
});

await step("browse: one product", async () => {
  const { product } = ok(await anyone.GET("/v1/{brand}/{store_group}/campaigns/{campaign}/products/{sku}", {
    params: { path: { ...tenant, campaign, sku: "SD-1003" } },
  }), "product SD-1003");
  expect(product.sku === "SD-1003" && product.sizes.length > 0, "SD-1003 with its sizes");
  expect(product.price_fen <= product.clearance_price_fen && product.clearance_price_fen <= product.list_price_fen,
    "price <= clearance price <= list price");
});

await step("staff: the campaign as ops see it", async () => {
  const c = ok(await ops.GET("/v1/{brand}/{store_group}/campaigns/{campaign}", {
    params: { path: { ...tenant, campaign } },
  }), "read campaign");
  expect(c.id === campaign && c.status === "live", "live");
});

let order: string | undefined;
await step("order: claim a coupon, preview, place with an Idempotency-Key, replay it", async () => {
  const coupon = ok(await buyer.POST("/v1/{brand}/{store_group}/campaigns/{campaign}/coupons/{template}/claim", {
    params: { path: { ...tenant, campaign, template: "over-500-50" } },
  }), "claim coupon");
  expect(coupon.template === "over-500-50" && coupon.status === "available", `claimed, available: ${coupon.status}`);
  const body = { campaign, lines: [line("PM-2006")] };
  const preview = ok(await buyer.POST("/v1/{brand}/{store_group}/orders/preview", {
    params: { path: tenant }, body,
  }), "preview");
  expect(preview.discount_fen === 5000 && preview.total_fen === preview.subtotal_fen - 5000, "the 50 off applied");
  const place = () => buyer.POST("/v1/{brand}/{store_group}/orders", {
    params: { path: tenant, header: { "Idempotency-Key": "ts-first-order" } }, body,
  });
  const placed = ok(await place(), "place");
  expect(placed.order.status === "awaiting_payment" && placed.order.total_fen === preview.total_fen, "placed at the previewed total");
  const replay = ok(await place(), "replay");
  expect(replay.order.id === placed.order.id, "the same key replays the same order");
  order = placed.order.id;
});

// Dispatched: the order has a parcel with a pickup code (only its buyer sees it).
async function dispatched(who: ReturnType<typeof api>, id: string): Promise<Order> {
  return until(`order ${id} ready for pickup`, async () => {
    const o = ok(await who.GET("/v1/{brand}/{store_group}/orders/{order}", {
      params: { path: { ...tenant, order: id } },
    }), `read order ${id}`);
    return o.status === "ready_for_pickup" ? o : undefined;
  });
}

let clerk: ReturnType<typeof api> | undefined;
await step("pay, wait for dispatch, pick up at the counter as the clerk", async () => {
  const id = need(order, "place");
  await pay(id);
  const o = await dispatched(buyer, id);
  const parcel = o.parcels[0];
  expect(parcel !== undefined, "a dispatched order has a parcel");
  const code = parcel.pickup_code;
  expect(typeof code === "string", "the buyer sees the pickup code");
  const mine = ok(await buyer.GET("/v1/me/orders", { params: { query: { limit: 5 } } }), "my orders");
  expect(mine.orders.some((m) => m.id === id), "my orders lists it");
  clerk = api(await token("store_manager", `clerk-${parcel.store}`));
  const done = ok(await clerk.POST("/v1/{brand}/{store_group}/orders/{order}/pickup", {
    params: { path: { ...tenant, order: id } }, body: { code },
  }), "pickup");
  expect(done.status === "picked_up", `picked up: ${done.status}`);
});

await step("return: asked, approved by rule, received by the clerk, refunded", async () => {
  const id = need(order, "place");
  const counter = need(clerk, "pickup");
  const asked = ok(await buyer.POST("/v1/{brand}/{store_group}/orders/{order}/refunds", {
    params: { path: { ...tenant, order: id }, header: { "Idempotency-Key": "ts-first-return" } },
    body: { lines: [line("PM-2006")], reason: "wrong_size", condition: { unworn: true, tags_on: true, original_box: true } },
  }), "request refund");
  expect(asked.decision === "approved", `decision ${asked.decision}`);
  expect(typeof asked.rma_url === "string", "an approved return has its document");
  ok(await counter.POST("/v1/{brand}/{store_group}/refunds/{refund}/receive", {
    params: { path: { ...tenant, refund: asked.id } },
    body: { units: [{ line: 0, resaleable: 1, damaged: 0 }] },
  }), "receive");
  await until("the refund paid", async () => {
    const r = ok(await buyer.GET("/v1/{brand}/{store_group}/refunds/{refund}", {
      params: { path: { ...tenant, refund: asked.id } },
    }), "read refund");
    return r.money === "succeeded" ? r : undefined;
  });
});

await step("group buy: open, two friends join, all pay, it forms", async () => {
  const seat = { campaign, lines: [line("SD-1003")], coupon: "none" };
  const opened = ok(await buyer.POST("/v1/{brand}/{store_group}/campaigns/{campaign}/group-buys", {
    params: { path: { ...tenant, campaign }, header: { "Idempotency-Key": "ts-group" } }, body: seat,
  }), "open group");
  const group = opened.order.group_buy;
  expect(typeof group === "string", "the opener's order names its group");
  const view = ok(await anyone.GET("/v1/{brand}/{store_group}/group-buys/{group_buy}", {
    params: { path: { ...tenant, group_buy: group } },
  }), "read group");
  expect(view.seats === 3 && view.seats_left === 2, `3 seats, 2 left: ${view.seats}, ${view.seats_left}`);
  const open = ok(await anyone.GET("/v1/{brand}/{store_group}/campaigns/{campaign}/group-buys", {
    params: { path: { ...tenant, campaign }, query: { sku: "SD-1003" } },
  }), "open groups");
  expect(open.group_buys.some((g) => g.id === group), "listed among the open groups");
  const orders = [opened.order.id];
  for (const friend of ["friend-1", "friend-2"]) {
    const joined = ok(await api(await token("consumer", friend)).POST("/v1/{brand}/{store_group}/group-buys/{group_buy}/join", {
      params: { path: { ...tenant, group_buy: group }, header: { "Idempotency-Key": `ts-join-${friend}` } }, body: seat,
    }), `${friend} joins`);
    orders.push(joined.order.id);
  }
  for (const o of orders) await pay(o);
  await until("the group formed", async () => {
    const g = ok(await anyone.GET("/v1/{brand}/{store_group}/group-buys/{group_buy}", {
      params: { path: { ...tenant, group_buy: group } },
    }), "read group");
    return g.status === "formed" ? g : undefined;
  });
  await dispatched(buyer, opened.order.id);
  const mine = ok(await buyer.GET("/v1/me/group-buys", { params: { query: { limit: 5 } } }), "my groups");
  expect(mine.group_buys.length > 0, "my groups lists it");
});

await step("share link: ops sign one for a guide; an order through it credits the guide", async () => {
  const link = ok(await ops.POST("/v1/{brand}/{store_group}/guides/{guide}/share-links", {
    params: { path: { ...tenant, guide: "gz-tianhe-g1" } }, body: { campaign, sku: "SD-1005" },
  }), "sign a link");
  expect(link.url.length > 0 && link.token.length > 0, "a link with its token");
  const buyer5 = api(await token("consumer", "buyer-5"));
  const placed = ok(await buyer5.POST("/v1/{brand}/{store_group}/orders", {
    params: { path: tenant, header: { "Idempotency-Key": "ts-via-guide" } },
    body: { campaign, lines: [line("SD-1005")], share_token: link.token },
  }), "order through the link");
  const credit = placed.order.attribution;
  expect(credit !== null, "the order says who is credited");
  expect(credit.reason === "link" && credit.guide === "gz-tianhe-g1", `credited ${credit.guide} for ${credit.reason}`);
  await pay(placed.order.id);
  const guide = api(await token("guide", "guide-gz-tianhe-g1"));
  const figures = await until("the sale in the guide's figures", async () => {
    const p = ok(await guide.GET("/v1/{brand}/{store_group}/guides/{guide}/performance", {
      params: { path: { ...tenant, guide: "gz-tianhe-g1" }, query: { campaign } },
    }), "performance");
    return p.orders === 1 ? p : undefined;
  });
  expect(figures.commission_pending_fen > 0, "commission pending");
});

await step("errors: a 422 names the field, through the typed problem", async () => {
  const r = await buyer.POST("/v1/{brand}/{store_group}/orders/preview", {
    params: { path: tenant }, body: { campaign, lines: [line("PM-2006", "99")] },
  });
  const p = problem(r, 422, "validation-error");
  expect(typeof p.field === "string" && p.field.startsWith("lines"), `field ${p.field}`);
});

await step("errors: a 409 on a reused Idempotency-Key, through the typed problem", async () => {
  const r = await buyer.POST("/v1/{brand}/{store_group}/orders", {
    params: { path: tenant, header: { "Idempotency-Key": "ts-first-order" } },
    body: { campaign, lines: [line("SD-1006")] },
  });
  problem(r, 409, "idempotency-key-reused");
});

await step("errors: no token is a 401, an unknown product a 404, through the typed problem", async () => {
  problem(await anyone.GET("/v1/me/orders", {}), 401, "unauthenticated");
  problem(await anyone.GET("/v1/{brand}/{store_group}/campaigns/{campaign}/products/{sku}", {
    params: { path: { ...tenant, campaign, sku: "XX-0000" } },
  }), 404, "not-found");
});

// --- the document's bounds against the server's ---
// A strict client may send anything the document allows: where the server refuses a
// request the document allows, the document is wider than the API. A request the
// document refuses too is fine (the document is exact there).

async function bounds(what: string, refusedBy: string[], r: { error?: Problem | undefined; response: Response }): Promise<void> {
  if (refusedBy.length > 0) {
    expect(r.error !== undefined, `the document refuses ${what} (${refusedBy.join("; ")}) but the server took it`);
  } else if (r.error !== undefined) {
    throw new Error(`the document allows ${what}, the server refuses it: ${r.response.status} ${r.error.type} ` +
      `field=${r.error.field ?? "-"}: ${r.error.detail ?? ""}`);
  }
}

const productsPath = "/v1/{brand}/{store_group}/campaigns/{campaign}/products";
for (const query of [{ limit: 0 }, { limit: 51 }, { category: "c".repeat(41) }]) {
  await step(`document: products ${JSON.stringify(query)}`, async () => {
    await bounds(JSON.stringify(query), contract.refuses("GET", productsPath, { query }),
      await anyone.GET(productsPath, { params: { path: { ...tenant, campaign }, query } }));
  });
}
// `status` of the staff lists is an enum in the document: a typed client cannot send a
// value the server does not serve, so there is nothing to probe.
await step("document: an Idempotency-Key of 65 characters (documented as 1-64)", async () => {
  const header = { "Idempotency-Key": "k".repeat(65) };
  const body = { campaign, lines: [line("SD-1006")] };
  await bounds("a 65-character Idempotency-Key", contract.refuses("POST", "/v1/{brand}/{store_group}/orders", { header, body }),
    await buyer.POST("/v1/{brand}/{store_group}/orders", { params: { path: tenant, header }, body }));
});
const carts = {
  "a cart line of quantity 0": { campaign, lines: [{ sku: "PM-2006", size: "38", quantity: 0 }] },
  "a cart line of quantity 100": { campaign, lines: [{ sku: "PM-2006", size: "38", quantity: 100 }] },
  "a cart of 6 lines": { campaign, lines: ["35", "36", "37", "38", "39", "40"].map((size) => line("PM-2006", size)) },
};
for (const [what, body] of Object.entries(carts)) {
  await step(`document: preview ${what}`, async () => {
    await bounds(what, contract.refuses("POST", "/v1/{brand}/{store_group}/orders/preview", { body }),
      await buyer.POST("/v1/{brand}/{store_group}/orders/preview", { params: { path: tenant }, body }));
  });
}

// --- the verdict ---

const violations = contract.report();
console.log(`\n${violations.length} contract violation(s), ${failures.length} failed step(s)`);
for (const v of violations) console.log(`  contract: ${v}`);
for (const f of failures) console.log(`  step: ${f}`);
for (const n of notes) console.log(`  note: ${n}`);
process.exitCode = violations.length + failures.length > 0 ? 1 : 0;
