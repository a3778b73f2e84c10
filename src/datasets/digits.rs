//! Loader for the 8×8 handwritten digits CSV (header p0..p63,label; pixels 0..16, scaled by
//! 1/16). Every malformed row is reported with its line and data-row number; nothing panics.

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use super::{Dataset, DatasetError};
use crate::nn::Labels;

const PIXELS: usize = 64;
const CLASSES: usize = 10;
const MAX_PIXEL: f32 = 16.0;

/// Reads `path` (e.g. `example-graphs/data/digits.csv`) into 64 features in [0, 1] and labels 0..9.
pub fn load_digits_csv(path: impl AsRef<Path>) -> Result<Dataset, DatasetError> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_digits_csv(std::io::BufReader::new(file), &path.display().to_string())
}

/// Parses digits CSV text from any reader; `source_name` appears in error messages.
pub fn parse_digits_csv(reader: impl Read, source_name: &str) -> Result<Dataset, DatasetError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header_error = |message: String| DatasetError::BadHeader {
        source_name: source_name.to_string(),
        message,
    };
    let headers = csv
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .clone();
    check_header(&headers).map_err(header_error)?;

    let mut pixels: Vec<f32> = Vec::new();
    let mut labels = Vec::new();
    for (index, record) in csv.records().enumerate() {
        let row = index as u64 + 1;
        let record = record.map_err(|e| DatasetError::BadRow {
            source_name: source_name.to_string(),
            line: e.position().map_or(row + 1, |p| p.line()),
            row,
            message: e.to_string(),
        })?;
        let line = record.position().map_or(row + 1, |p| p.line());
        let bad_row = |message: String| DatasetError::BadRow {
            source_name: source_name.to_string(),
            line,
            row,
            message,
        };
        let (values, label) = parse_record(&record).map_err(bad_row)?;
        pixels.extend_from_slice(&values);
        labels.push(label);
    }
    let rows = labels.len();
    let x = Array2::from_shape_vec((rows, PIXELS), pixels)
        .map_err(|e| DatasetError::InvalidArgument(format!("{source_name}: {e}")))?;
    Ok(Dataset {
        name: "digits".into(),
        x,
        y: Labels::Classes(labels),
        feature_names: (0..PIXELS).map(|i| format!("p{i}")).collect(),
        class_count: CLASSES,
    })
}

fn check_header(headers: &csv::StringRecord) -> Result<(), String> {
    if headers.len() != PIXELS + 1 {
        return Err(format!(
            "expected 65 columns (p0..p63,label), found {}",
            headers.len()
        ));
    }
    for (i, name) in headers.iter().enumerate() {
        let expected = if i < PIXELS {
            format!("p{i}")
        } else {
            "label".to_string()
        };
        if name.trim() != expected {
            return Err(format!(
                "column {} is `{name}`, expected `{expected}`",
                i + 1
            ));
        }
    }
    Ok(())
}

/// 64 scaled pixels and the label of one record.
fn parse_record(record: &csv::StringRecord) -> Result<([f32; PIXELS], usize), String> {
    if record.len() != PIXELS + 1 {
        return Err(format!("expected 65 fields, found {}", record.len()));
    }
    let mut values = [0.0f32; PIXELS];
    for (i, (value, field)) in values.iter_mut().zip(record.iter()).enumerate() {
        let pixel: f32 = field
            .trim()
            .parse()
            .map_err(|_| format!("column p{i}: `{field}` is not a number"))?;
        if !(0.0..=MAX_PIXEL).contains(&pixel) {
            return Err(format!("column p{i}: {pixel} is outside 0..=16"));
        }
        *value = pixel / MAX_PIXEL;
    }
    let field = record.get(PIXELS).unwrap_or_default();
    let label: usize = field
        .trim()
        .parse()
        .map_err(|_| format!("column label: `{field}` is not a digit 0..9"))?;
    if label >= CLASSES {
        return Err(format!("column label: {label} is not a digit 0..9"));
    }
    Ok((values, label))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        let mut h: Vec<String> = (0..64).map(|i| format!("p{i}")).collect();
        h.push("label".into());
        h.join(",")
    }

    fn row(pixel: &str, label: &str) -> String {
        let mut fields = vec![pixel.to_string(); 64];
        fields.push(label.to_string());
        fields.join(",")
    }

    #[test]
    fn pixels_are_scaled_to_unit_range() {
        let text = format!("{}\n{}\n{}\n", header(), row("16", "3"), row("4", "0"));
        let data = parse_digits_csv(text.as_bytes(), "mem").unwrap();
        assert_eq!(data.x.dim(), (2, 64));
        assert_eq!(data.x[[0, 5]], 1.0);
        assert_eq!(data.x[[1, 63]], 0.25);
        assert_eq!(data.y, Labels::Classes(vec![3, 0]));
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_row_numbers() {
        let text = format!("{}\n{}\n{}\n", header(), row("1", "2"), row("x", "2"));
        let err = parse_digits_csv(text.as_bytes(), "digits.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "digits.csv line 3 (data row 2): column p0: `x` is not a number"
        );
        let text = format!("{}\n{}\n", header(), row("1", "12"));
        let err = parse_digits_csv(text.as_bytes(), "digits.csv").unwrap_err();
        assert!(
            err.to_string()
                .contains("line 2 (data row 1): column label: 12"),
            "{err}"
        );
        let text = format!("{}\n1,2,3\n", header());
        let err = parse_digits_csv(text.as_bytes(), "digits.csv").unwrap_err();
        assert!(
            err.to_string().contains("expected 65 fields, found 3"),
            "{err}"
        );
        let text = format!("{}\n{}\n", header(), row("17", "1"));
        assert!(parse_digits_csv(text.as_bytes(), "d").is_err());
    }

    #[test]
    fn wrong_header_is_rejected() {
        let text = "a,b\n1,2\n";
        let err = parse_digits_csv(text.as_bytes(), "d.csv").unwrap_err();
        assert!(err.to_string().starts_with("d.csv: bad header"), "{err}");
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = load_digits_csv("/nonexistent/digits.csv").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/digits.csv"),
            "{err}"
        );
    }

    #[test]
    fn the_bundled_digits_file_loads() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/example-graphs/data/digits.csv"
        );
        let data = load_digits_csv(path).unwrap();
        assert_eq!(data.x.dim(), (1797, 64));
        assert!(data.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    }
}
