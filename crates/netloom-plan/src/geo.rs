//! Geography: one-way delay between sites from great-circle distance
//! through fibre, or from a measured round-trip time.

use netloom_model::{Link, Site, Topology};

/// Speed of light in optical fibre, km/s (refractive index ~1.468).
pub const FIBRE_KM_PER_S: f64 = 204_000.0;
/// Mean Earth radius, km.
pub const EARTH_RADIUS_KM: f64 = 6371.0;
/// Routes are longer than great circles by this factor. Fitted, with
/// [`OVERHEAD_NS`], to [`MEASURED_RTT_MS`] (least mean relative error; see
/// docs/geography.md).
pub const ROUTE_INFLATION: f64 = 1.5;
/// Fixed one-way overhead (access networks, switching), nanoseconds.
pub const OVERHEAD_NS: u64 = 1_600_000;

/// Typical round-trip times between well-connected cities, in ms: medians
/// reported by public inter-city ping services (such as WonderNetwork's),
/// rounded; not measured by netloom. When both ends of a link stand in
/// cities of one of these pairs, the pair's RTT is used instead of the
/// distance model (whose mean error against this table is ~13%); a
/// `sites_latency` file overrides both.
pub const MEASURED_RTT_MS: &[(&str, &str, f64)] = &[
    ("London", "New York", 72.0),
    ("London", "Tokyo", 225.0),
    ("New York", "Tokyo", 165.0),
    ("Frankfurt", "Singapore", 160.0),
    ("London", "Frankfurt", 15.0),
    ("London", "Paris", 8.0),
    ("Amsterdam", "London", 7.0),
    ("New York", "Los Angeles", 65.0),
    ("New York", "Chicago", 20.0),
    ("Los Angeles", "Tokyo", 105.0),
    ("San Francisco", "Tokyo", 108.0),
    ("Singapore", "Tokyo", 70.0),
    ("Singapore", "Sydney", 92.0),
    ("Los Angeles", "Sydney", 145.0),
    ("London", "Singapore", 165.0),
    ("London", "Sydney", 265.0),
    ("New York", "Sao Paulo", 115.0),
    ("Hong Kong", "Singapore", 35.0),
    ("Mumbai", "Singapore", 58.0),
    ("London", "Johannesburg", 160.0),
    ("Frankfurt", "Moscow", 42.0),
    ("Seoul", "Tokyo", 33.0),
    ("Dallas", "Los Angeles", 35.0),
    ("Miami", "Sao Paulo", 110.0),
    ("London", "Madrid", 25.0),
    ("London", "Stockholm", 32.0),
    ("New York", "Toronto", 15.0),
    ("Hong Kong", "Tokyo", 50.0),
    ("Frankfurt", "New York", 85.0),
    ("Paris", "Singapore", 155.0),
];

/// Letters and digits only, lowercase, accents folded for the few city
/// names in [`MEASURED_RTT_MS`] that have them.
fn fold(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'ã' | 'á' | 'à' | 'â' => 'a',
            'é' | 'è' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' => 'u',
            c => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The typical RTT between two cities, if the table has the pair.
pub fn measured_rtt_ms(city_a: &str, city_b: &str) -> Option<f64> {
    let (a, b) = (fold(city_a), fold(city_b));
    MEASURED_RTT_MS
        .iter()
        .find(|(x, y, _)| {
            let (x, y) = (fold(x), fold(y));
            (x == a && y == b) || (x == b && y == a)
        })
        .map(|(_, _, rtt)| *rtt)
}

/// Great-circle distance in km (haversine).
pub fn distance_km(a: &Site, b: &Site) -> f64 {
    let (la1, lo1) = (a.lat().to_radians(), a.lon().to_radians());
    let (la2, lo2) = (b.lat().to_radians(), b.lon().to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// One-way delay of the model, nanoseconds.
pub fn model_delay_ns(km: f64) -> u64 {
    OVERHEAD_NS + (km * ROUTE_INFLATION / FIBRE_KM_PER_S * 1e9).round() as u64
}

/// The one-way delay the sites of a link's nodes give it, with where it
/// came from; `None` when either node has no site or both share one.
pub fn link_delay(topo: &Topology, link: &Link) -> Option<(u64, String)> {
    let sa = topo.nodes.get(&link.a.node)?.site.as_ref()?;
    let sb = topo.nodes.get(&link.b.node)?.site.as_ref()?;
    if sa == sb {
        return None;
    }
    let (a, b) = (topo.sites.get(sa)?, topo.sites.get(sb)?);
    if let Some(m) = topo
        .sites_latency
        .iter()
        .find(|m| (m.a == *sa && m.b == *sb) || (m.a == *sb && m.b == *sa))
    {
        return Some((
            m.rtt_ns / 2,
            format!("sites_latency {sa}-{sb}: measured RTT / 2"),
        ));
    }
    if let (Some(ca), Some(cb)) = (&a.city, &b.city) {
        if let Some(rtt) = measured_rtt_ms(ca, cb) {
            return Some((
                (rtt * 1e6 / 2.0).round() as u64,
                format!("sites {sa}-{sb}: typical measured RTT {ca}-{cb} {rtt} ms / 2"),
            ));
        }
    }
    let km = distance_km(a, b);
    Some((
        model_delay_ns(km),
        format!(
            "sites {sa}-{sb}: {km:.0} km great circle x {ROUTE_INFLATION} / fibre + {} ms",
            OVERHEAD_NS as f64 / 1e6
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str, lat: f64, lon: f64, city: Option<&str>) -> Site {
        Site {
            name: name.into(),
            lat_udeg: (lat * 1e6) as i64,
            lon_udeg: (lon * 1e6) as i64,
            city: city.map(str::to_string),
        }
    }

    #[test]
    fn great_circle_distances_match_published_figures() {
        let london = site("l", 51.5074, -0.1278, None);
        let ny = site("n", 40.7128, -74.0060, None);
        let tokyo = site("t", 35.6895, 139.6917, None);
        // Published great-circle distances: ~5,570 km and ~9,560 km.
        assert!((distance_km(&london, &ny) - 5570.0).abs() < 15.0);
        assert!((distance_km(&london, &tokyo) - 9560.0).abs() < 15.0);
        assert_eq!(distance_km(&london, &london), 0.0);
    }

    #[test]
    fn model_is_overhead_plus_inflated_fibre_time() {
        assert_eq!(model_delay_ns(0.0), OVERHEAD_NS);
        // 2,040 km x 1.5 / 204,000 km/s = 15 ms.
        assert_eq!(model_delay_ns(2040.0), OVERHEAD_NS + 15_000_000);
    }

    #[test]
    fn model_stays_near_the_measured_table() {
        // The constants were fitted to this table: keep them honest.
        let coords = [
            ("London", 51.5074, -0.1278),
            ("New York", 40.7128, -74.0060),
            ("Tokyo", 35.6895, 139.6917),
            ("Frankfurt", 50.1109, 8.6821),
            ("Singapore", 1.2897, 103.8501),
        ];
        let find = |n: &str| {
            coords
                .iter()
                .find(|c| c.0 == n)
                .map(|c| site(n, c.1, c.2, None))
        };
        let mut errors = Vec::new();
        for (a, b, rtt) in MEASURED_RTT_MS {
            if let (Some(sa), Some(sb)) = (find(a), find(b)) {
                let model = 2.0 * model_delay_ns(distance_km(&sa, &sb)) as f64 / 1e6;
                errors.push((model - rtt).abs() / rtt);
            }
        }
        assert!(errors.len() >= 4);
        let mean = errors.iter().sum::<f64>() / errors.len() as f64;
        assert!(mean < 0.2, "mean relative error {mean}");
    }

    #[test]
    fn measured_pairs_are_found_either_way_round() {
        assert_eq!(measured_rtt_ms("Tokyo", "London"), Some(225.0));
        assert_eq!(measured_rtt_ms("london", "TOKYO"), Some(225.0));
        assert_eq!(measured_rtt_ms("São Paulo", "New York"), Some(115.0));
        assert_eq!(measured_rtt_ms("Tokyo", "Atlantis"), None);
    }
}
