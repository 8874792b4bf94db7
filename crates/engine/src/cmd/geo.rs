//! Geo commands, part one (Redis's geo.c): GEOADD, GEODIST, GEOHASH, GEOPOS, and the
//! argument helpers the searches in [`super::geo_search`] share.
//!
//! A geo set is a sorted set whose scores are 52-bit geohashes ([`crate::util::geohash`]),
//! so GEOADD is ZADD with computed scores (and propagates as that ZADD, as Redis rewrites
//! it), and every read decodes a member's score back to the centre of its cell.

use crate::cmd::args;
use crate::cmd::spec::{acl, key, CommandSpec, Group, KeySpec, DENYOOM, READONLY, WRITE};
use crate::cmd::zset::{zadd, zset_read};
use crate::ctx::Ctx;
use crate::error::{err, CmdResult, Error};
use crate::reply::Reply;
use crate::util::geohash::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: WRITE | DENYOOM,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RW | key::UPDATE)],
        handler: Some(geoadd),
        group: Group::Geo,
        since: "3.2.0",
        summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        args: "key:key condition=[NX|XX]{6.2.0} [change=CH]{6.2.0} longitude_latitude_member=(longitude:double latitude:double member)...",
        history: &[("6.2.0", "Added the `CH`, `NX` and `XX` options.")],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: READONLY,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(geodist),
        group: Group::Geo,
        since: "3.2.0",
        summary: "Returns the distance between two members of a geospatial index",
        complexity: "O(log(N))",
        args: "key:key member1 member2 unit=[M|KM|FT|MI]",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: READONLY,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(geohash_cmd),
        group: Group::Geo,
        since: "3.2.0",
        summary: "Returns members of a geospatial index as standard geohash strings",
        complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        args: "key:key member...",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: READONLY,
        acl: acl::GEO,
        key_specs: &[KeySpec::one(1, key::RO | key::ACCESS)],
        handler: Some(geopos),
        group: Group::Geo,
        since: "3.2.0",
        summary: "Returns longitude and latitude of members of a geospatial index",
        complexity: "O(N) where N is the number of members requested.",
        args: "key:key member...",
        ..CommandSpec::DEFAULT
    },
];

/// Redis's extractLongLatOrReply: a longitude and a latitude, within the WGS84 limits.
pub fn parse_lon_lat(lon: &[u8], lat: &[u8]) -> CmdResult<(f64, f64)> {
    let x = args::float(lon)?;
    let y = args::float(lat)?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(err(format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}")));
    }
    Ok((x, y))
}

/// Redis's extractUnitOrReply: metres per unit.
pub fn parse_unit(unit: &[u8]) -> CmdResult<f64> {
    if args::is(unit, "m") {
        Ok(1.0)
    } else if args::is(unit, "km") {
        Ok(1000.0)
    } else if args::is(unit, "ft") {
        Ok(0.3048)
    } else if args::is(unit, "mi") {
        Ok(1609.34)
    } else {
        Err(err("ERR unsupported unit provided. please use M, KM, FT, MI"))
    }
}

/// A double argument with Redis's custom error text (getDoubleFromObjectOrReply with a
/// message).
pub fn float_or(arg: &[u8], msg: &'static str) -> CmdResult<f64> {
    crate::util::num::parse_f64(arg).ok_or_else(|| err(msg))
}

/// A member's position, None if it is missing.
pub fn member_position(z: &crate::types::zset::ZSet, member: &[u8]) -> Option<(f64, f64)> {
    z.score(member).and_then(geohash::decode_score)
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with geohash scores.
fn geoadd(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    let (mut xx, mut nx) = (false, false);
    let mut longidx = 2;
    while let Some(opt) = argv.get(longidx) {
        if args::is(opt, "nx") {
            nx = true;
        } else if args::is(opt, "xx") {
            xx = true;
        } else if !args::is(opt, "ch") {
            break;
        }
        longidx += 1;
    }
    let triples = &argv[longidx..];
    if !triples.len().is_multiple_of(3) || (xx && nx) {
        return Err(Error::Syntax);
    }
    let mut scores = Vec::with_capacity(triples.len() / 3);
    for t in triples.chunks(3) {
        let (x, y) = parse_lon_lat(t[0], t[1])?;
        let score = geohash::score_of(x, y).ok_or(Error::Syntax)?;
        scores.push(itoa::Buffer::new().format(score).as_bytes().to_vec());
    }
    let mut zargs: Vec<&[u8]> = Vec::with_capacity(longidx + scores.len() * 2);
    zargs.push(b"zadd");
    zargs.extend_from_slice(&argv[1..longidx]);
    for (t, score) in triples.chunks(3).zip(&scores) {
        zargs.push(score);
        zargs.push(t[2]);
    }
    ctx.propagate_as(&zargs);
    zadd(ctx, &zargs)
}

/// GEODIST key member1 member2 [unit]
fn geodist(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    let to_meter = match argv.len() {
        5 => parse_unit(argv[4])?,
        n if n > 5 => return Err(Error::Syntax),
        _ => 1.0,
    };
    let Some(z) = zset_read(ctx, argv[1])? else { return Ok(Reply::Nil) };
    let (Some(a), Some(b)) = (z.score(argv[2]), z.score(argv[3])) else { return Ok(Reply::Nil) };
    match (geohash::decode_score(a), geohash::decode_score(b)) {
        (Some((x1, y1)), Some((x2, y2))) => {
            let d = geohash::distance(x1, y1, x2, y2) / to_meter;
            Ok(Reply::bulk_vec(geohash::format_distance(d).into_bytes()))
        }
        _ => Ok(Reply::Nil),
    }
}

/// GEOHASH key member [...]: standard 11-character geohashes, nil for missing members.
fn geohash_cmd(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    let z = zset_read(ctx, argv[1])?;
    let out = argv[2..]
        .iter()
        .map(|m| match z.and_then(|z| z.score(m)).and_then(geohash::geohash_string) {
            Some(h) => Reply::bulk(&h),
            None => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

/// GEOPOS key member [...]: [longitude, latitude] pairs, a null array for missing members.
fn geopos(ctx: &mut Ctx, argv: &[&[u8]]) -> CmdResult {
    let z = zset_read(ctx, argv[1])?;
    let out = argv[2..]
        .iter()
        .map(|m| match z.and_then(|z| member_position(z, m)) {
            Some((x, y)) => coord_pair(x, y),
            None => Reply::NilArray,
        })
        .collect();
    Ok(Reply::Array(out))
}

/// A position as Redis replies it (addReplyHumanLongDouble: bulk in RESP2, double in RESP3).
pub fn coord_pair(x: f64, y: f64) -> Reply {
    Reply::Array(vec![Reply::DoubleText(geohash::format_coord(x)), Reply::DoubleText(geohash::format_coord(y))])
}
