//! The protocol-buffers wire format, for the handful of Prometheus messages kload writes
//! (remote write's `WriteRequest`, the scrape format's `MetricFamily`). Hand-written so the
//! build needs no `protoc`; the field numbers live next to each message in its own module.
//!
//! Encoding rules used (protobuf "Encoding" guide): a field is a key `(number << 3) | wire
//! type` then its value; varints are little-endian base-128; `sint32`/`sint64` are zigzag
//! varints; `double` is 8 little-endian bytes; strings, nested messages and packed repeated
//! scalars are a varint length followed by the bytes.

/// The wire types kload writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum.
    Varint = 0,
    /// fixed64, sfixed64, double.
    Fixed64 = 1,
    /// string, bytes, embedded messages, packed repeated fields.
    Len = 2,
}

/// A growing buffer of encoded fields. Every method appends one field.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer::default()
    }

    /// The bytes written so far.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// A base-128 varint, least significant group first.
    pub(crate) fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: WireType) {
        self.raw_varint((u64::from(field) << 3) | wire as u64);
    }

    /// A `uint64`/`uint32`/enum field.
    pub(crate) fn uint64(&mut self, field: u32, v: u64) {
        self.key(field, WireType::Varint);
        self.raw_varint(v);
    }

    /// An `int64` field: negative numbers take ten bytes (two's complement as u64).
    pub(crate) fn int64(&mut self, field: u32, v: i64) {
        self.key(field, WireType::Varint);
        self.raw_varint(v as u64);
    }

    /// A `sint32` field (zigzag: 0, -1, 1, -2 … encode as 0, 1, 2, 3 …).
    pub(crate) fn sint32(&mut self, field: u32, v: i32) {
        self.key(field, WireType::Varint);
        self.raw_varint(u64::from(zigzag32(v)));
    }

    /// A `double` field.
    pub(crate) fn double(&mut self, field: u32, v: f64) {
        self.key(field, WireType::Fixed64);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A `string` field.
    pub(crate) fn string(&mut self, field: u32, v: &str) {
        self.key(field, WireType::Len);
        self.raw_varint(v.len() as u64);
        self.buf.extend_from_slice(v.as_bytes());
    }

    /// A packed `repeated sint64` field; nothing when `values` is empty.
    pub(crate) fn packed_sint64(&mut self, field: u32, values: &[i64]) {
        if values.is_empty() {
            return;
        }
        let mut body = Writer::new();
        for &v in values {
            body.raw_varint(zigzag64(v));
        }
        self.bytes(field, &body.buf);
    }

    /// An embedded message, written by `f` into its own buffer first (its length prefix
    /// must come before it).
    pub(crate) fn message(&mut self, field: u32, f: impl FnOnce(&mut Writer)) {
        let mut body = Writer::new();
        f(&mut body);
        self.bytes(field, &body.buf);
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, WireType::Len);
        self.raw_varint(bytes.len() as u64);
        self.buf.extend_from_slice(bytes);
    }

    /// Appends a whole message with a varint length prefix and no key: the "delimited"
    /// framing of a stream of messages (Prometheus' protobuf scrape format).
    pub(crate) fn delimited(&mut self, f: impl FnOnce(&mut Writer)) {
        let mut body = Writer::new();
        f(&mut body);
        self.raw_varint(body.buf.len() as u64);
        self.buf.extend_from_slice(&body.buf);
    }
}

fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// A minimal reader for tests: enough to walk what [`Writer`] produced and check it
/// field by field.
#[cfg(test)]
pub(crate) mod read {
    /// One decoded field.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) enum Field<'a> {
        Varint(u64),
        Fixed64(u64),
        Len(&'a [u8]),
    }

    impl<'a> Field<'a> {
        pub(crate) fn varint(&self) -> u64 {
            match self {
                Field::Varint(v) => *v,
                other => panic!("expected a varint, got {other:?}"),
            }
        }

        pub(crate) fn double(&self) -> f64 {
            match self {
                Field::Fixed64(v) => f64::from_bits(*v),
                other => panic!("expected a double, got {other:?}"),
            }
        }

        pub(crate) fn bytes(&self) -> &'a [u8] {
            match self {
                Field::Len(b) => b,
                other => panic!("expected a length-delimited field, got {other:?}"),
            }
        }

        pub(crate) fn str(&self) -> &'a str {
            std::str::from_utf8(self.bytes()).unwrap()
        }

        /// Reads the field as a zigzag `sint32`/`sint64`.
        pub(crate) fn sint(&self) -> i64 {
            unzigzag(self.varint())
        }
    }

    pub(crate) fn unzigzag(v: u64) -> i64 {
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }

    pub(crate) fn varint(bytes: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = bytes[0];
            *bytes = &bytes[1..];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    /// Every (field number, value) of one message, in order.
    pub(crate) fn fields(mut bytes: &[u8]) -> Vec<(u32, Field<'_>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let key = varint(&mut bytes);
            let field = (key >> 3) as u32;
            let value = match key & 7 {
                0 => Field::Varint(varint(&mut bytes)),
                1 => {
                    let (v, rest) = bytes.split_at(8);
                    bytes = rest;
                    Field::Fixed64(u64::from_le_bytes(v.try_into().unwrap()))
                }
                2 => {
                    let len = varint(&mut bytes) as usize;
                    let (v, rest) = bytes.split_at(len);
                    bytes = rest;
                    Field::Len(v)
                }
                w => panic!("unexpected wire type {w}"),
            };
            out.push((field, value));
        }
        out
    }

    /// The values of field `n`.
    pub(crate) fn all<'a>(fields: &[(u32, Field<'a>)], n: u32) -> Vec<Field<'a>> {
        fields
            .iter()
            .filter(|(f, _)| *f == n)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The only value of field `n`.
    pub(crate) fn one<'a>(fields: &[(u32, Field<'a>)], n: u32) -> Field<'a> {
        let mut values = all(fields, n);
        assert_eq!(values.len(), 1, "field {n} in {fields:?}");
        values.remove(0)
    }

    /// A packed repeated sint64 field's values.
    pub(crate) fn packed_sint64(bytes: &[u8]) -> Vec<i64> {
        let mut bytes = bytes;
        let mut out = Vec::new();
        while !bytes.is_empty() {
            out.push(unzigzag(varint(&mut bytes)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_guide() {
        // The guide's examples: 1 is 0x01, 150 is 0x96 0x01.
        let mut w = Writer::new();
        w.raw_varint(1);
        w.raw_varint(150);
        w.raw_varint(u64::MAX);
        assert_eq!(
            w.into_bytes(),
            [
                0x01, 0x96, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ]
        );
    }

    #[test]
    fn keys_carry_field_number_and_wire_type() {
        let mut w = Writer::new();
        w.uint64(1, 150); // the guide's "08 96 01"
        w.string(2, "testing"); // the guide's "12 07 74 65 73 74 69 6e 67"
        w.double(3, 1.0); // key 0x19, then 1.0 as little-endian IEEE 754
        w.int64(15, -1); // key 0x78, ten bytes of two's complement
        w.uint64(16, 0); // field 16 needs a two-byte key: 0x80 0x01
        assert_eq!(
            w.into_bytes(),
            [
                0x08, 0x96, 0x01, //
                0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g', //
                0x19, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, //
                0x78, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, //
                0x80, 0x01, 0x00,
            ]
        );
    }

    #[test]
    fn zigzag_maps_small_magnitudes_to_small_numbers() {
        assert_eq!(
            [0, -1, 1, -2, 2147483647, -2147483648].map(zigzag32),
            [0, 1, 2, 3, 4294967294, 4294967295]
        );
        assert_eq!(zigzag64(-3), 5);
        assert_eq!(zigzag64(i64::MIN), u64::MAX);
        let mut w = Writer::new();
        w.sint32(4, -2); // key 0x20, zigzag 3
        w.packed_sint64(12, &[2, -1, 0, 64]); // key 0x62, length 5, zigzag 4 1 0 128
        w.packed_sint64(13, &[]);
        assert_eq!(
            w.into_bytes(),
            [0x20, 0x03, 0x62, 0x05, 0x04, 0x01, 0x00, 0x80, 0x01]
        );
    }

    #[test]
    fn nested_and_delimited_messages_are_length_prefixed() {
        let mut w = Writer::new();
        w.message(1, |m| m.string(1, "a"));
        w.delimited(|m| m.uint64(1, 7));
        assert_eq!(
            w.into_bytes(),
            [0x0a, 0x03, 0x0a, 0x01, b'a', 0x02, 0x08, 0x07]
        );
    }

    #[test]
    fn the_test_reader_reads_what_the_writer_wrote() {
        let mut w = Writer::new();
        w.uint64(1, 300);
        w.double(2, 0.25);
        w.string(3, "x");
        w.sint32(4, -5);
        w.packed_sint64(5, &[-7, 7]);
        let bytes = w.into_bytes();
        let f = read::fields(&bytes);
        assert_eq!(read::one(&f, 1).varint(), 300);
        assert_eq!(read::one(&f, 2).double(), 0.25);
        assert_eq!(read::one(&f, 3).str(), "x");
        assert_eq!(read::one(&f, 4).sint(), -5);
        assert_eq!(read::packed_sint64(read::one(&f, 5).bytes()), [-7, 7]);
    }
}
