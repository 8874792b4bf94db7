//! Geohashes as Redis computes them (geohash.c, geohash_helper.c): the 52-bit interleaved
//! hash that is a geo member's sorted-set score, its decoding to the centre of its cell, the
//! nine cells a radius or box search visits, and haversine distances on Redis's sphere.
//!
//! Every step repeats Redis's arithmetic in the same order with the same constants, because
//! results are compared byte for byte: coordinates are printed with 17 decimals and distances
//! decide which members fall inside a search.

/// Bits per coordinate at full precision (26 × 2 = 52 bits, exactly representable as a double).
pub const STEP_MAX: u8 = 26;

pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

/// A hash of `step` bits per coordinate (latitude in the even bits, longitude in the odd).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// Redis's HASHISZERO: a neighbour excluded from the search.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash shifted to 52 bits (Redis's geohashAlign52Bits): a cell's first score.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The cell a hash covers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

const WGS84_LONG: Range = Range { min: LONG_MIN, max: LONG_MAX };
const WGS84_LAT: Range = Range { min: LAT_MIN, max: LAT_MAX };

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// Redis's geohashEncode over the given ranges; None outside them (or the WGS84 limits).
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    // C converts the offsets to uint32_t by truncation.
    Some(HashBits { bits: interleave64(lat_offset as u32, long_offset as u32), step })
}

/// Encodes with Redis's WGS84 ranges (latitude limited to ±85.05112878).
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// Redis's geohashDecode: the cell of `hash`.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / cells) * long_scale,
        },
    })
}

fn decode_wgs84(hash: HashBits) -> Option<Area> {
    decode(WGS84_LONG, WGS84_LAT, hash)
}

/// A score's longitude and latitude (Redis's decodeGeohash): the centre of its cell,
/// clamped to the WGS84 limits.
pub fn decode_score(score: f64) -> Option<(f64, f64)> {
    let area = decode_wgs84(HashBits { bits: c_double_to_u64(score), step: STEP_MAX })?;
    let x = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let y = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some((x, y))
}

/// C's `(uint64_t)d` as x86-64 compilers emit it (through the signed conversion, whose
/// out-of-range result is i64::MIN): scores of any value decode as Redis decodes them.
fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9.223372036854775808e18;
    let signed = |x: f64| if (-TWO63..TWO63).contains(&x) { x as i64 } else { i64::MIN };
    if d < TWO63 {
        signed(d) as u64
    } else {
        (signed(d - TWO63) as u64) ^ (1 << 63)
    }
}

/// The 52-bit score of a position (GEOADD), None outside the WGS84 limits.
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(|h| h.align52())
}

/// The standard 11-character geohash of a score (GEOHASH): decoded, then re-encoded with
/// latitude in ±90 as the usual geohash alphabet expects; the last character is always `0`.
pub fn geohash_string(score: f64) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (x, y) = decode_score(score)?;
    let bits =
        encode(Range { min: -180.0, max: 180.0 }, Range { min: -90.0, max: 90.0 }, x, y, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    Some(out)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

/// The eight cells around a hash.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

fn neighbors(hash: HashBits) -> Neighbors {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: moved(1, 0),
        west: moved(-1, 0),
        south: moved(0, -1),
        north: moved(0, 1),
        north_west: moved(-1, 1),
        north_east: moved(1, 1),
        south_east: moved(1, -1),
        south_west: moved(-1, -1),
    }
}

/// A search area: a circle of `radius` or a `width` × `height` box (in the unit of
/// `conversion`, the unit's size in metres), centred on `xy` (longitude, latitude).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub xy: (f64, f64),
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Clone, Copy, Debug)]
pub enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    // Cells are narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// Redis's geohashBoundingBox: [min_lon, min_lat, max_lon, max_lat].
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let (longitude, latitude) = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box { width, height } => (shape.conversion * (height / 2.0), shape.conversion * (width / 2.0)),
    };
    let lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R;
    let long_delta_top = (width / EARTH_RADIUS_IN_METERS / ((latitude + lat_delta) * D_R).cos()) / D_R;
    let long_delta_bottom = (width / EARTH_RADIUS_IN_METERS / ((latitude - lat_delta) * D_R).cos()) / D_R;
    let southern = latitude < 0.0;
    [
        if southern { longitude - long_delta_bottom } else { longitude - long_delta_top },
        latitude - lat_delta,
        if southern { longitude + long_delta_bottom } else { longitude + long_delta_top },
        latitude + lat_delta,
    ]
}

/// The cells to search, in Redis's order: the centre cell, then north, south, east, west,
/// north-east, north-west, south-east, south-west. Excluded neighbours are zero hashes.
pub fn search_cells(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let (longitude, latitude) = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let cell = |steps| {
        let hash = encode_wgs84(longitude, latitude, steps).unwrap_or(HashBits { bits: 0, step: steps });
        (hash, neighbors(hash), decode_wgs84(hash).unwrap_or_default())
    };
    let (mut hash, mut n, mut area) = cell(steps);
    // The estimate may be too fine when the area is near a cell's edge: then one cell
    // around is not enough to cover it, and the step is decreased once.
    let decrease = {
        let north = decode_wgs84(n.north).unwrap_or_default();
        let south = decode_wgs84(n.south).unwrap_or_default();
        let east = decode_wgs84(n.east).unwrap_or_default();
        let west = decode_wgs84(n.west).unwrap_or_default();
        north.latitude.max < max_lat
            || south.latitude.min > min_lat
            || east.longitude.max < max_lon
            || west.longitude.min > min_lon
    };
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = cell(steps);
    }
    // Neighbours beyond the area are not searched.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            (n.south, n.south_west, n.south_east) = (zero, zero, zero);
        }
        if area.latitude.max > max_lat {
            (n.north, n.north_east, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.min < min_lon {
            (n.west, n.south_west, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.max > max_lon {
            (n.east, n.south_east, n.north_east) = (zero, zero, zero);
        }
    }
    [hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
}

fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * ((lat2d * D_R) - (lat1d * D_R)).abs()
}

/// Haversine distance in metres (Redis's geohashGetDistance).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = lon1d * D_R;
    let lon2r = lon2d * D_R;
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = lat1d * D_R;
    let lat2r = lat2d * D_R;
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The distance from the shape's centre to (`x`, `y`) if the point is inside the shape.
pub fn distance_if_within(shape: &Shape, x: f64, y: f64) -> Option<f64> {
    let (cx, cy) = shape.xy;
    match shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(cx, cy, x, y);
            (d <= r * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            // The latitude check is cheaper, so it comes first.
            if lat_distance(y, cy) > height_m / 2.0 {
                return None;
            }
            if distance(x, y, cx, y) > width_m / 2.0 {
                return None;
            }
            Some(distance(cx, cy, x, y))
        }
    }
}

/// Redis's fixedpoint_d2string with 4 decimals: how distances are printed.
pub fn format_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    // C's llrint rounds half to even in the default rounding mode, as round_ties_even does.
    let scaled = (d * 10000.0).round_ties_even();
    let v = if scaled.is_nan() { i64::MIN } else { scaled as i64 };
    let (neg, mag) = (v < 0, v.unsigned_abs());
    let digits = mag.to_string();
    let (int_part, frac) = if digits.len() > 4 { digits.split_at(digits.len() - 4) } else { ("0", digits.as_str()) };
    format!("{}{}.{:0>4}", if neg { "-" } else { "" }, int_part, frac)
}

/// `%.17Lf` of a double without trailing zeros (Redis's LD_STR_HUMAN): how coordinates are
/// printed. The double widens to a long double exactly, so printing the double exactly to
/// 17 decimals gives the same digits.
pub fn format_coord(v: f64) -> Vec<u8> {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        let trimmed = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(trimmed);
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_round_trip_matches_redis() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo": ZSCORE 3479099956230698.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        let (x, y) = decode_score(3479099956230698.0).unwrap();
        assert_eq!(format_coord(x), b"13.36138933897018433");
        assert_eq!(format_coord(y), b"38.11555639549629859");
        assert_eq!(&geohash_string(3479099956230698.0).unwrap(), b"sqc8b49rny0");
        assert_eq!(score_of(200.0, 0.0), None);
        assert_eq!(score_of(0.0, 86.0), None);
    }

    #[test]
    fn distances_print_like_redis() {
        let (x1, y1) = decode_score(3479099956230698.0).unwrap();
        let (x2, y2) = decode_score(score_of(15.087269, 37.502669).unwrap() as f64).unwrap();
        assert_eq!(format_distance(distance(x1, y1, x2, y2)), "166274.1516");
        assert_eq!(format_distance(0.0), "0.0000");
        assert_eq!(format_distance(0.00004), "0.0000");
        assert_eq!(format_distance(0.7750), "0.7750");
        assert_eq!(format_distance(-1.5), "-1.5000");
        assert_eq!(format_coord(-0.0), b"0");
        assert_eq!(format_coord(10.0), b"10");
    }

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [(0u32, 0u32), (1, 2), (0x3ffffff, 0x1234567), (u32::MAX, 7)] {
            let d = deinterleave64(interleave64(a, b));
            assert_eq!((d as u32, (d >> 32) as u32), (a, b));
        }
    }
}
