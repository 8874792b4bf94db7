// The real @upstash/redis and @vercel/kv SDKs against Spinel's REST API (in-process engine)
// and against proxy mode in front of a real redis-server 7.0.15. run.sh starts the servers
// and sets the environment:
//   SPINEL_URL, SPINEL_TOKEN        the REST API of `spinel`
//   PROXY_URL, PROXY_TOKEN          `spinel --proxy` in front of redis-server
//   PROXY_DEAD_TOKEN                a proxy token whose backend is down
//   PROXY_TLS_TOKEN (optional)      a proxy token for a rediss:// backend
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { createClient } from "@vercel/kv";

const env = process.env;
const targets = [
  { name: "spinel", url: env.SPINEL_URL, token: env.SPINEL_TOKEN, real: false },
  { name: "proxy→redis-server", url: env.PROXY_URL, token: env.PROXY_TOKEN, real: true },
];
if (env.PROXY_TLS_TOKEN) {
  targets.push({ name: "proxy→rediss", url: env.PROXY_URL, token: env.PROXY_TLS_TOKEN, real: true });
}
const encodings = [
  { name: "base64", responseEncoding: "base64" },
  { name: "plain", responseEncoding: false },
];

let unique = 0;
const key = (tag) => `node:${tag}:${process.pid}:${++unique}`;

/** Raw REST call (what the SDKs do underneath), for setup the SDKs do not expose. */
async function raw(target, body, path = "") {
  const res = await fetch(`${target.url}/${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${target.token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

function until(what, cond, ms = 10000) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

for (const target of targets) {
  for (const enc of encodings) {
    describe(`@upstash/redis on ${target.name}, ${enc.name}`, () => {
      const redis = new Redis({ url: target.url, token: target.token, retry: false, responseEncoding: enc.responseEncoding });

      test("strings, numbers and JSON values", async () => {
        const k = key("str");
        assert.equal(await redis.set(k, "hello"), "OK");
        assert.equal(await redis.get(k), "hello");
        assert.equal(await redis.append(k, " world"), 11);
        assert.equal(await redis.strlen(k), 11);
        assert.equal(await redis.getrange(k, 0, 4), "hello");
        // The SDK stores objects as JSON and parses them back.
        const obj = { a: 1, b: [true, null, "x"], c: "é✓" };
        await redis.set(k, obj);
        assert.deepEqual(await redis.get(k), obj);
        assert.equal(await redis.get(key("missing")), null);
        const n = key("num");
        assert.equal(await redis.incr(n), 1);
        assert.equal(await redis.incrby(n, 41), 42);
        assert.equal(await redis.incrbyfloat(n, 0.5), 42.5);
        assert.equal(await redis.get(n), 42.5);
        await assert.rejects(redis.incr(k), /not an integer/);
        assert.equal(await redis.set(k, "v", { ex: 100 }), "OK");
        const ttl = await redis.ttl(k);
        assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
        assert.equal(await redis.set(k, "w", { nx: true }), null);
        assert.equal(await redis.exists(k, key("missing")), 1);
        assert.equal(await redis.del(k, n), 2);
        assert.equal(await redis.ping(), "PONG");
        assert.equal(await redis.echo("OK"), "OK");
        assert.equal(await redis.type(k), "none");
      });

      test("mset, mget and a value that reads as OK", async () => {
        const a = key("a"), b = key("b"), c = key("c");
        assert.equal(await redis.mset({ [a]: "OK", [b]: 2 }), "OK");
        assert.deepEqual(await redis.mget(a, b, c), ["OK", 2, null]);
      });

      test("auto-pipelining batches concurrent calls", async () => {
        const ks = Array.from({ length: 20 }, (_, i) => key(`ap${i}`));
        const sets = await Promise.all(ks.map((k, i) => redis.set(k, i)));
        assert.deepEqual(sets, ks.map(() => "OK"));
        const gets = await Promise.all(ks.map((k) => redis.get(k)));
        assert.deepEqual(gets, ks.map((_, i) => i));
        const mixed = await Promise.allSettled([redis.incr(ks[0]), redis.set(ks[1], "x"), redis.incr(ks[1])]);
        assert.equal(mixed[0].value, 1);
        assert.equal(mixed[1].value, "OK");
        assert.equal(mixed[2].status, "rejected");
      });

      test("explicit pipeline", async () => {
        const k = key("pl");
        const p = redis.pipeline();
        p.set(k, "1");
        p.incr(k);
        p.get(k);
        p.del(k);
        assert.deepEqual(await p.exec(), ["OK", 2, 2, 1]);
      });

      test("multi() is a transaction", async () => {
        const k = key("tx");
        const tx = redis.multi();
        tx.set(k, 10);
        tx.incrby(k, 5);
        tx.get(k);
        assert.deepEqual(await tx.exec(), ["OK", 15, 15]);
        const bad = redis.multi();
        bad.set(k, "x");
        bad.incr(k);
        // A runtime error inside the transaction surfaces as an error.
        await assert.rejects(bad.exec(), /not an integer/);
        assert.equal(await redis.get(k), "x");
      });

      test("scan and keys", async () => {
        const prefix = key("scan");
        await Promise.all([1, 2, 3].map((i) => redis.set(`${prefix}:${i}`, i)));
        const found = (await redis.keys(`${prefix}:*`)).sort();
        assert.deepEqual(found, [1, 2, 3].map((i) => `${prefix}:${i}`));
        let cursor = "0";
        const seen = new Set();
        do {
          const [next, batch] = await redis.scan(cursor, { match: `${prefix}:*`, count: 100 });
          batch.forEach((k) => seen.add(k));
          cursor = String(next);
        } while (cursor !== "0");
        assert.equal(seen.size, 3);
      });
    });

    describe(`@vercel/kv on ${target.name}, ${enc.name}`, () => {
      const kv = createClient({ url: target.url, token: target.token, responseEncoding: enc.responseEncoding });

      test("get, set, incr, multi", async () => {
        const k = key("kv");
        assert.equal(await kv.set(k, { user: "ada", n: 1 }), "OK");
        assert.deepEqual(await kv.get(k), { user: "ada", n: 1 });
        const c = key("kvc");
        assert.equal(await kv.incr(c), 1);
        const tx = kv.multi();
        tx.incr(c);
        tx.get(c);
        assert.deepEqual(await tx.exec(), [2, 2]);
        assert.equal(await kv.del(k, c), 2);
      });
    });
  }

  describe(`subscribe() on ${target.name}`, () => {
    const redis = new Redis({ url: target.url, token: target.token, retry: false });

    test("messages arrive over the event stream", async () => {
      if (target.real) {
        const channel = key("chan");
        const sub = redis.subscribe([channel]);
        after(() => sub.unsubscribe());
        const got = [];
        sub.on("message", (m) => got.push(m));
        const subscribed = new Promise((resolve) => sub.on("subscribe", resolve));
        await subscribed;
        // PUBLISH through the same gateway until the backend counts our subscriber.
        let receivers = 0;
        for (let i = 0; i < 200 && receivers === 0; i++) {
          receivers = await redis.publish(channel, { hello: "world" });
          if (receivers === 0) await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(receivers, 1);
        await until("the message", () => got.length > 0);
        assert.deepEqual(got[0], { channel, message: { hello: "world" } });
        await sub.unsubscribe();
      } else {
        // Spinel publishes keyspace events through the same pub/sub.
        await raw(target, ["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
        const k = key("watched");
        const sub = redis.subscribe([`__keyspace@0__:${k}`]);
        after(() => sub.unsubscribe());
        const got = [];
        sub.on("message", (m) => got.push(m));
        await new Promise((resolve) => sub.on("subscribe", resolve));
        await redis.set(k, "v");
        await until("the keyspace event", () => got.length > 0);
        assert.deepEqual(got[0], { channel: `__keyspace@0__:${k}`, message: "set" });
        await sub.unsubscribe();
      }
    });

    test("psubscribe", async () => {
      // The SDK JSON-parses pmessage payloads without a fallback: take them raw.
      const redis = new Redis({ url: target.url, token: target.token, retry: false, automaticDeserialization: false });
      const prefix = key("pat");
      if (!target.real) await raw(target, ["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
      const pattern = target.real ? `${prefix}:*` : `__keyspace@0__:${prefix}:*`;
      const sub = redis.psubscribe([pattern]);
      after(() => sub.unsubscribe());
      const got = [];
      sub.on("pmessage", (m) => got.push(m));
      await new Promise((resolve) => sub.on("psubscribe", resolve));
      if (target.real) {
        let receivers = 0;
        for (let i = 0; i < 200 && receivers === 0; i++) {
          receivers = await redis.publish(`${prefix}:a`, "hi");
          if (receivers === 0) await new Promise((r) => setTimeout(r, 10));
        }
        await until("the pmessage", () => got.length > 0);
        assert.deepEqual(got[0], { pattern, channel: `${prefix}:a`, message: "hi" });
      } else {
        await redis.set(`${prefix}:a`, 1);
        await until("the pmessage", () => got.length > 0);
        assert.deepEqual(got[0], { pattern, channel: `__keyspace@0__:${prefix}:a`, message: "set" });
      }
      await sub.unsubscribe();
    });
  });
}

describe("proxy mode specifics", () => {
  const proxy = targets[1];

  test("blocking commands answer at once", async () => {
    const start = Date.now();
    // BLPOP with timeout 0 would wait forever on a connection; over REST it answers now.
    assert.deepEqual((await raw(proxy, ["BLPOP", key("empty"), 0])).json, { result: null });
    const l = key("list");
    await raw(proxy, ["RPUSH", l, "x"]);
    assert.deepEqual((await raw(proxy, ["BLPOP", l, 0])).json, { result: [l, "x"] });
    assert.deepEqual((await raw(proxy, ["BLPOP"])).json, { error: "ERR wrong number of arguments for 'blpop' command" });
    assert.ok(Date.now() - start < 2000);
  });

  test("a dead backend is a JSON 500 and others keep working", async () => {
    const dead = await raw({ url: proxy.url, token: env.PROXY_DEAD_TOKEN }, ["PING"]);
    assert.equal(dead.status, 500);
    assert.match(dead.json.error, /unable to connect/);
    const ok = await raw(proxy, ["PING"]);
    assert.deepEqual(ok.json, { result: "PONG" });
  });

  test("concurrent transactions do not interleave", async () => {
    const redis = new Redis({ url: proxy.url, token: proxy.token, retry: false });
    const c = key("cc");
    const results = await Promise.all(
      Array.from({ length: 30 }, () => {
        const tx = redis.multi();
        tx.incr(c);
        tx.incr(c);
        return tx.exec();
      }),
    );
    for (const [a, b] of results) assert.equal(b, a + 1);
    assert.equal(await redis.get(c), 60);
  });
});
