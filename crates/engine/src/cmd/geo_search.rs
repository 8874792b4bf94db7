//! Geo searches (Redis's georadiusGeneric): GEORADIUS, GEORADIUSBYMEMBER, their `_RO`
//! variants, GEOSEARCH and GEOSEARCHSTORE.
//!
//! A search visits the cell of the centre and its eight neighbours at a precision chosen
//! from the radius ([`geohash::search_cells`]); each cell is a contiguous score range of the
//! sorted set, walked in score order, and every member in it is checked against the exact
//! circle or box. Results keep the order they were found in unless sorted by distance, as
//! Redis does (a full sort is glibc's stable merge sort, a COUNT below the number found is
//! Redis's partial quicksort, so ties come out as Redis orders them).

use crate::cmd::args;
use crate::cmd::geo::{coord_pair, float_or, member_position, parse_lon_lat, parse_unit};
use crate::cmd::spec::{acl, key, CommandSpec, FindKeys, Group, KeySpec, DENYOOM, READONLY, WRITE};
use crate::cmd::zset::{limits, zset_read};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::keyspace::{notify, Value};
use crate::reply::Reply;
use crate::types::zset::{ScoreRange, Start, ZSet};
use crate::types::Object;
use crate::util::geohash::{self, HashBits, Shape, ShapeKind};
use crate::util::pqsort::pqsort;
use std::cmp::Ordering;

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
/// The unit argument of the docs, as a literal for `concat!`.
macro_rules! unit {
    () => {
        "unit=(M|KM|FT|MI)"
    };
}
const RANGE_END: FindKeys = FindKeys::Range { lastkey: 0, keystep: 1, limit: 0 };

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: WRITE | DENYOOM,
        acl: acl::GEO,
        key_specs: &[
            KeySpec::one(1, key::RO | key::ACCESS),
            KeySpec::keyword("STORE", 6, RANGE_END, key::OW | key::UPDATE),
            KeySpec::keyword("STOREDIST", 6, RANGE_END, key::OW | key::UPDATE),
        ],
        handler: Some(georadius),
        getkeys: Some(georadius_keys),
        group: Group::Geo,
        since: "3.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
        complexity: RADIUS_COMPLEXITY,
        args: concat!(
            "key:key longitude:double latitude:double radius:double ",
            unit!(),
            " [WITHCOORD] [WITHDIST] [WITHHASH] count=[COUNT count:integer [ANY]{6.2.0}] order=[ASC|DESC] [STORE key:key@1] [STOREDIST key:key@2]"
        ),
        history: &[("6.2.0", "Added the `ANY` option for `COUNT`."), ("7.0.0", "Added support for uppercase unit names.")],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: WRITE | DENYOOM,
        acl: acl::GEO,
        key_specs: &[
            KeySpec::one(1, key::RO | key::ACCESS),
            KeySpec::keyword("STORE", 5, RANGE_END, key::OW | key::UPDATE),
            KeySpec::keyword("STOREDIST", 5, RANGE_END, key::OW | key::UPDATE),
        ],
        handler: Some(georadiusbymember),
        getkeys: Some(georadius_keys),
        group: Group::Geo,
        since: "3.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
        complexity: RADIUS_COMPLEXITY,
        args: concat!(
            "key:key member radius:double ",
            unit!(),
            " [WITHCOORD] [WITHDIST] [WITHHASH] count=[COUNT count:integer [ANY]] order=[ASC|DESC] [STORE key:key@1] [STOREDIST key:key@2]"
        ),
        history: &[("7.0.0", "Added support for uppercase unit names.")],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: READONLY,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(georadius_ro),
        group: Group::Geo,
        since: "3.2.10",
        summary: "A read-only variant for GEORADIUS",
        complexity: RADIUS_COMPLEXITY,
        args: concat!(
            "key:key longitude:double latitude:double radius:double ",
            unit!(),
            " [WITHCOORD] [WITHDIST] [WITHHASH] count=[COUNT count:integer [ANY]{6.2.0}] order=[ASC|DESC]"
        ),
        history: &[("6.2.0", "Added the `ANY` option for `COUNT`.")],
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` with the `BYRADIUS` argument"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: READONLY,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(georadiusbymember_ro),
        group: Group::Geo,
        since: "3.2.10",
        summary: "A read-only variant for GEORADIUSBYMEMBER",
        complexity: RADIUS_COMPLEXITY,
        args: concat!(
            "key:key member radius:double ",
            unit!(),
            " [WITHCOORD] [WITHDIST] [WITHHASH] count=[COUNT count:integer [ANY]] order=[ASC|DESC]"
        ),
        deprecated_since: Some("6.2.0"),
        replaced_by: Some("`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: READONLY,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(geosearch),
        group: Group::Geo,
        since: "6.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        complexity: SEARCH_COMPLEXITY,
        args: concat!(
            "key:key from=(FROMMEMBER member|FROMLONLAT longitude_latitude=(longitude:double latitude:double)) by=(circle=(BYRADIUS radius:double ",
            unit!(),
            ")|box=(BYBOX width:double height:double ",
            unit!(),
            ")) order=[ASC|DESC] count=[COUNT count:integer [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"
        ),
        history: &[("7.0.0", "Added support for uppercase unit names.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: WRITE | DENYOOM,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::OW | key::UPDATE), KeySpec::one(2, key::RO | key::ACCESS)],
        handler: Some(geosearchstore),
        group: Group::Geo,
        since: "6.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
        complexity: SEARCH_COMPLEXITY,
        args: concat!(
            "destination:key source:key from=(FROMMEMBER member|FROMLONLAT longitude_latitude=(longitude:double latitude:double)) by=(circle=(BYRADIUS radius:double ",
            unit!(),
            ")|box=(BYBOX width:double height:double ",
            unit!(),
            ")) order=[ASC|DESC] count=[COUNT count:integer [ANY]] [STOREDIST]"
        ),
        history: &[("7.0.0", "Added support for uppercase unit names.")],
        ..CommandSpec::DEFAULT
    },
];

/// Which command is searching (Redis's RADIUS_* and GEOSEARCH* flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS: centre from arguments; `store` allows STORE/STOREDIST.
    Coords { store: bool },
    /// GEORADIUSBYMEMBER: centre from a member.
    Member { store: bool },
    /// GEOSEARCH, or GEOSEARCHSTORE when `store`.
    Search { store: bool },
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search { .. })
    }

    fn radius_store(self) -> bool {
        matches!(self, Variant::Coords { store: true } | Variant::Member { store: true })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    None,
    Asc,
    Desc,
}

/// A member found inside the shape.
struct Point {
    member: Vec<u8>,
    score: f64,
    dist: f64,
    xy: (f64, f64),
}

fn georadius(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Coords { store: true })
}

fn georadiusbymember(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Member { store: true })
}

fn georadius_ro(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Coords { store: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Member { store: false })
}

fn geosearch(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 1, Variant::Search { store: false })
}

fn geosearchstore(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    search_generic(ctx, argv, 2, Variant::Search { store: true })
}

/// Redis's georadiusGetKeys: the source, then the last STORE/STOREDIST destination.
fn georadius_keys(argv: &[&[u8]]) -> Vec<(usize, u64)> {
    let mut keys = vec![(1, 0)];
    let mut store = None;
    let mut i = 5;
    while i < argv.len() {
        if (args::is(argv[i], "store") || args::is(argv[i], "storedist")) && i + 1 < argv.len() {
            store = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    // Redis's callback leaves the flags empty (the key specs carry them).
    keys.extend(store.map(|p| (p, 0)));
    keys
}

/// Redis's extractDistanceOrReply: `radius unit`, as the radius and metres per unit.
fn parse_distance(radius: &[u8], unit: &[u8]) -> CmdResult<(f64, f64)> {
    let r = float_or(radius, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(err("ERR radius cannot be negative"));
    }
    Ok((r, parse_unit(unit)?))
}

/// Redis's extractBoxOrReply: `width height unit`.
fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> CmdResult<(f64, f64, f64)> {
    let w = float_or(width, "ERR need numeric width")?;
    let h = float_or(height, "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(err("ERR height or width cannot be negative"));
    }
    Ok((w, h, parse_unit(unit)?))
}

/// The options after the fixed arguments.
struct Options<'a> {
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    order: Order,
    any: bool,
    count: i64,
    store: Option<&'a [u8]>,
    storedist: bool,
}

fn search_generic(ctx: &mut Ctx, argv: &[&[u8]], src: usize, variant: Variant) -> CmdResult {
    let exists = zset_read(ctx, argv[src])?.is_some();
    let mut center: Option<(f64, f64)> = None;
    let mut kind: Option<(ShapeKind, f64)> = None;
    let mut store = None;
    let base = match variant {
        Variant::Coords { .. } => {
            center = Some(parse_lon_lat(argv[2], argv[3])?);
            let (r, conv) = parse_distance(argv[4], argv[5])?;
            kind = Some((ShapeKind::Radius(r), conv));
            6
        }
        Variant::Member { .. } => {
            if exists {
                center = Some(position_of(ctx, argv[src], argv[2])?);
                let (r, conv) = parse_distance(argv[3], argv[4])?;
                kind = Some((ShapeKind::Radius(r), conv));
            }
            5
        }
        Variant::Search { store: s } => {
            if s {
                store = Some(argv[1]);
            }
            src + 1
        }
    };
    let mut o = Options {
        withdist: false,
        withhash: false,
        withcoord: false,
        order: Order::None,
        any: false,
        count: 0,
        store,
        storedist: false,
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let rest = &argv[base..];
    let remaining = rest.len();
    let mut i = 0;
    while i < remaining {
        let arg = rest[i];
        let search = variant.is_search();
        if args::is(arg, "withdist") {
            o.withdist = true;
        } else if args::is(arg, "withhash") {
            o.withhash = true;
        } else if args::is(arg, "withcoord") {
            o.withcoord = true;
        } else if args::is(arg, "any") {
            o.any = true;
        } else if args::is(arg, "asc") {
            o.order = Order::Asc;
        } else if args::is(arg, "desc") {
            o.order = Order::Desc;
        } else if args::is(arg, "count") && i + 1 < remaining {
            o.count = args::int(rest[i + 1])?;
            if o.count <= 0 {
                return Err(err("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if args::is(arg, "store") && i + 1 < remaining && variant.radius_store() {
            o.store = Some(rest[i + 1]);
            o.storedist = false;
            i += 1;
        } else if args::is(arg, "storedist") && i + 1 < remaining && variant.radius_store() {
            o.store = Some(rest[i + 1]);
            o.storedist = true;
            i += 1;
        } else if args::is(arg, "storedist") && variant == (Variant::Search { store: true }) {
            o.storedist = true;
        } else if args::is(arg, "frommember") && i + 1 < remaining && search && !fromloc {
            // Without a source key the arguments are still parsed, to pick the reply.
            if exists {
                center = Some(position_of(ctx, argv[src], rest[i + 1])?);
            }
            frommember = true;
            i += 1;
        } else if args::is(arg, "fromlonlat") && i + 2 < remaining && search && !frommember {
            center = Some(parse_lon_lat(rest[i + 1], rest[i + 2])?);
            fromloc = true;
            i += 2;
        } else if args::is(arg, "byradius") && i + 2 < remaining && search && !bybox {
            let (r, conv) = parse_distance(rest[i + 1], rest[i + 2])?;
            kind = Some((ShapeKind::Radius(r), conv));
            byradius = true;
            i += 2;
        } else if args::is(arg, "bybox") && i + 3 < remaining && search && !byradius {
            let (w, h, conv) = parse_box(rest[i + 1], rest[i + 2], rest[i + 3])?;
            kind = Some((ShapeKind::Box { width: w, height: h }, conv));
            bybox = true;
            i += 3;
        } else {
            return Err(Error::Syntax);
        }
        i += 1;
    }
    if o.store.is_some() && (o.withdist || o.withhash || o.withcoord) {
        let what =
            if variant == (Variant::Search { store: true }) { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(err(format!("ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")));
    }
    let name = String::from_utf8_lossy(argv[0]);
    if variant.is_search() && !(frommember || fromloc) {
        return Err(err(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if variant.is_search() && !(byradius || bybox) {
        return Err(err(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if o.any && o.count == 0 {
        return Err(err("ERR the ANY argument requires COUNT argument"));
    }
    let (Some(xy), Some((kind, conversion)), true) = (center, kind, exists) else {
        return Ok(missing_source(ctx, o.store));
    };
    let shape = Shape { xy, conversion, kind };
    // COUNT needs the closest members, unless ANY asked for any of them.
    if o.count != 0 && o.order == Order::None && !o.any {
        o.order = Order::Asc;
    }
    let limit = if o.any { o.count as usize } else { 0 };
    let mut points = match zset_read(ctx, argv[src])? {
        Some(z) => members_in_shape(z, &shape, limit),
        None => Vec::new(),
    };
    if points.is_empty() && o.store.is_none() {
        return Ok(Reply::Array(Vec::new()));
    }
    let returned = if o.count == 0 { points.len() } else { points.len().min(o.count as usize) };
    if o.order != Order::None {
        let desc = o.order == Order::Desc;
        let mut cmp = |a: &Point, b: &Point| {
            let ord = a.dist.partial_cmp(&b.dist).unwrap_or(Ordering::Equal);
            if desc {
                ord.reverse()
            } else {
                ord
            }
        };
        // Redis sorts everything with glibc's stable qsort, or only the first `returned`
        // with its partial quicksort.
        if returned == points.len() {
            points.sort_by(cmp);
        } else {
            pqsort(&mut points, 0, returned as i64 - 1, &mut cmp);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    match o.store {
        None => Ok(reply_points(points, &o)),
        Some(dst) => Ok(store_points(ctx, dst, points, o.storedist, variant.is_search())),
    }
}

/// The centre of a search from a member (the source exists).
fn position_of(ctx: &mut Ctx, key: &[u8], member: &[u8]) -> CmdResult<(f64, f64)> {
    zset_read(ctx, key)?
        .and_then(|z| member_position(z, member))
        .ok_or_else(|| err("ERR could not decode requested zset member"))
}

/// The reply when the source key does not exist: the destination (if any) is deleted.
fn missing_source(ctx: &mut Ctx, store: Option<&[u8]>) -> Reply {
    match store {
        Some(dst) => {
            if ctx.delete_key(dst) {
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.dirty(1);
            }
            Reply::Int(0)
        }
        None => Reply::Array(Vec::new()),
    }
}

/// Redis's membersOfAllNeighbors: the members of the nine cells that are inside the shape,
/// stopping once `limit` (if not 0) were found.
fn members_in_shape(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = geohash::search_cells(shape);
    let mut out = Vec::new();
    // Huge radii can make adjacent neighbours the same cell; a cell equal to the one
    // processed just before is skipped (0 also stands for "the centre" here, as in Redis).
    let mut last_processed = 0;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if last_processed != 0 && *cell == cells[last_processed] {
            continue;
        }
        if !out.is_empty() && limit != 0 && out.len() >= limit {
            break;
        }
        members_of_cell(z, *cell, shape, &mut out, limit);
        last_processed = i;
    }
    out
}

/// The members of one cell (the scores from its first 52-bit value up to the next cell's).
fn members_of_cell(z: &ZSet, cell: HashBits, shape: &Shape, out: &mut Vec<Point>, limit: usize) {
    let min = cell.align52() as f64;
    let max = HashBits { bits: cell.bits.wrapping_add(1), step: cell.step }.align52() as f64;
    let range = ScoreRange { min, max, minex: false, maxex: true };
    z.walk(Start::Score(&range), false, |member, score| {
        if !range.lte_max(score) {
            return false;
        }
        if let Some(xy) = geohash::decode_score(score) {
            if let Some(dist) = geohash::distance_if_within(shape, xy.0, xy.1) {
                out.push(Point { member: member.to_vec(), score, dist, xy });
            }
        }
        !(!out.is_empty() && limit != 0 && out.len() >= limit)
    });
}

fn reply_points(points: Vec<Point>, o: &Options) -> Reply {
    let extra = usize::from(o.withdist) + usize::from(o.withhash) + usize::from(o.withcoord);
    Reply::Array(
        points
            .into_iter()
            .map(|p| {
                if extra == 0 {
                    return Reply::bulk_vec(p.member);
                }
                let mut item = Vec::with_capacity(extra + 1);
                item.push(Reply::bulk_vec(p.member));
                if o.withdist {
                    item.push(Reply::bulk_vec(geohash::format_distance(p.dist).into_bytes()));
                }
                if o.withhash {
                    item.push(Reply::Int(p.score as i64));
                }
                if o.withcoord {
                    item.push(coord_pair(p.xy.0, p.xy.1));
                }
                Reply::Array(item)
            })
            .collect(),
    )
}

/// STORE/STOREDIST/GEOSEARCHSTORE: the results as a sorted set (scores are geohashes or
/// distances); an empty result deletes the destination.
fn store_points(ctx: &mut Ctx, dst: &[u8], points: Vec<Point>, storedist: bool, search: bool) -> Reply {
    let n = points.len();
    if n > 0 {
        let mut items: Vec<(Vec<u8>, f64)> =
            points.into_iter().map(|p| (p.member, if storedist { p.dist } else { p.score })).collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.dedup_by(|a, b| a.0 == b.0);
        let z = ZSet::from_unsorted(items, limits(ctx)).unwrap_or_default();
        ctx.set_key(dst, Value::Object(Object::ZSet(z)), false);
        ctx.notify(notify::ZSET, if search { "geosearchstore" } else { "georadiusstore" }, dst);
        ctx.dirty(n as u64);
    } else if ctx.delete_key(dst) {
        ctx.notify(notify::GENERIC, "del", dst);
        ctx.dirty(1);
    }
    Reply::Int(n as i64)
}
