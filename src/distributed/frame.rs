//! A segment's result written to standard output as a framed record that survives being
//! mixed with other log lines (`kubectl logs -l ... | kload merge -`), even with a prefix
//! on every line (`kubectl logs --prefix`) and with the lines of other pods in between.
//!
//! ```text
//! KLOAD-RESULT v2 segment=2/3 sha256=<hex of the JSON> parts=3
//! KLOAD-RESULT-PART <first 12 hex> 1/3 <base64 of a deflated chunk>
//! KLOAD-RESULT-PART <first 12 hex> 2/3 ...
//! KLOAD-RESULT-PART <first 12 hex> 3/3 ...
//! KLOAD-RESULT-END <first 12 hex>
//! ```
//!
//! Lines stay short (container runtimes split lines above 16 KiB); every line names its
//! record, so records of several pods can interleave line by line; the SHA-256 of the JSON
//! tells a truncated or damaged record from a whole one.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

/// Characters of base64 per part line.
const PART_LEN: usize = 8 * 1024;

const HEADER: &str = "KLOAD-RESULT v2 ";
const PART: &str = "KLOAD-RESULT-PART ";
const END: &str = "KLOAD-RESULT-END ";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The record of one result (its JSON text), labelled with its segment (`2/3`).
pub fn encode(json: &str, segment: &str) -> String {
    let sha = hex(&Sha256::digest(json.as_bytes()));
    let id = &sha[..12];
    let mut deflated = Vec::new();
    {
        let mut enc =
            flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::default());
        // Writing into a Vec cannot fail.
        let _ = enc.write_all(json.as_bytes());
        let _ = enc.finish();
    }
    let text = BASE64.encode(&deflated);
    let parts: Vec<&str> = text
        .as_bytes()
        .chunks(PART_LEN)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    let n = parts.len().max(1);
    let mut out = format!("{HEADER}segment={segment} sha256={sha} parts={n}\n");
    for (i, p) in parts.iter().enumerate() {
        out.push_str(&format!("{PART}{id} {}/{n} {p}\n", i + 1));
    }
    if parts.is_empty() {
        out.push_str(&format!("{PART}{id} 1/1 \n"));
    }
    out.push_str(&format!("{END}{id}\n"));
    out
}

/// A record found in a log: its segment label and its JSON, or why it is unusable.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub segment: String,
    pub json: Result<String, String>,
}

#[derive(Default)]
struct Partial {
    segment: String,
    sha: String,
    count: usize,
    parts: BTreeMap<usize, String>,
}

/// Every record in `text` (any other lines are ignored), in the order their headers came.
pub fn decode(text: &str) -> Vec<Found> {
    let mut order: Vec<String> = Vec::new();
    let mut records: BTreeMap<String, Partial> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(at) = line.find(HEADER) {
            let fields = &line[at + HEADER.len()..];
            let get = |key: &str| {
                fields
                    .split_whitespace()
                    .find_map(|f| f.strip_prefix(key).map(str::to_string))
            };
            let (Some(segment), Some(sha), Some(count)) =
                (get("segment="), get("sha256="), get("parts="))
            else {
                continue;
            };
            if sha.len() < 12 {
                continue;
            }
            let id = sha[..12].to_string();
            let entry = records.entry(id.clone()).or_default();
            entry.segment = segment;
            entry.sha = sha;
            entry.count = count.parse().unwrap_or(0);
            if !order.contains(&id) {
                order.push(id);
            }
        } else if let Some(at) = line.find(PART) {
            let mut fields = line[at + PART.len()..].splitn(3, ' ');
            let (Some(id), Some(pos), data) = (fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            let Some((k, _)) = pos.split_once('/') else {
                continue;
            };
            let Ok(k) = k.parse::<usize>() else {
                continue;
            };
            let entry = records.entry(id.to_string()).or_default();
            entry.parts.insert(k, data.unwrap_or("").trim().to_string());
            if !order.contains(&id.to_string()) {
                order.push(id.to_string());
            }
        }
        // END lines only help a reader; completeness is the parts and the hash.
        let _ = END;
    }
    order
        .into_iter()
        .filter_map(|id| records.remove(&id))
        .map(|p| Found {
            segment: if p.segment.is_empty() {
                "?".to_string()
            } else {
                p.segment.clone()
            },
            json: assemble(&p),
        })
        .collect()
}

fn assemble(p: &Partial) -> Result<String, String> {
    if p.sha.is_empty() {
        return Err("its header line is missing (the log was cut at the start)".into());
    }
    if p.parts.len() != p.count || (1..=p.count).any(|k| !p.parts.contains_key(&k)) {
        return Err(format!(
            "the record is truncated: {} of {} parts (was the log cut or rotated?)",
            p.parts.len(),
            p.count
        ));
    }
    let text: String = p.parts.values().map(String::as_str).collect();
    let deflated = BASE64
        .decode(text.as_bytes())
        .map_err(|e| format!("the record is damaged: {e}"))?;
    let mut json = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut json)
        .map_err(|e| format!("the record is damaged: {e}"))?;
    if hex(&Sha256::digest(json.as_bytes())) != p.sha {
        return Err("the record is damaged: its SHA-256 does not match".into());
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_json(seed: u64) -> String {
        let mut x = seed;
        let items: Vec<String> = (0..4000)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{{\"i\":{i},\"v\":\"{:x}\"}}", x)
            })
            .collect();
        format!("[{}]", items.join(","))
    }

    #[test]
    fn records_survive_prefixes_and_interleaving() {
        let a = big_json(1);
        let b = big_json(2);
        let ra = encode(&a, "1/2");
        let rb = encode(&b, "2/2");
        assert!(ra.lines().all(|l| l.len() <= PART_LEN + 100));
        assert!(ra.lines().count() > 3, "several parts");
        // kubectl logs --prefix, two pods' lines alternating, log noise in between.
        let mut log = String::new();
        let (la, lb): (Vec<&str>, Vec<&str>) = (ra.lines().collect(), rb.lines().collect());
        for i in 0..la.len().max(lb.len()) {
            if let Some(l) = la.get(i) {
                log.push_str(&format!("[pod/run-0/kload] {l}\n"));
            }
            log.push_str("[pod/run-1/kload] [00:03/00:10] users 5 | 12.0 req/s\n");
            if let Some(l) = lb.get(i) {
                log.push_str(&format!("[pod/run-1/kload] {l}\n"));
            }
        }
        let found = decode(&log);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].segment, "1/2");
        assert_eq!(found[0].json.as_deref(), Ok(a.as_str()));
        assert_eq!(found[1].json.as_deref(), Ok(b.as_str()));
    }

    #[test]
    fn a_truncated_or_damaged_record_is_told_apart() {
        let r = encode(&big_json(3), "1/1");
        let lines: Vec<&str> = r.lines().collect();
        let cut: String = lines[..lines.len() - 2]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        let found = decode(&cut);
        assert!(
            found[0].json.as_ref().unwrap_err().contains("truncated"),
            "{found:?}"
        );
        let damaged = r.replacen("KLOAD-RESULT-PART", "x", 1);
        let found = decode(&damaged);
        assert!(found[0].json.is_err());
        assert!(decode("nothing here\n").is_empty());
    }
}
