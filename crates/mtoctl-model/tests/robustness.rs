//! Hostile input never panics or hangs the spec loader, and findings always point inside the
//! text. Arbitrary bytes, and the examples mutated by flipping, deleting, duplicating and
//! inserting pieces, go through the whole pipeline.

use proptest::prelude::*;

fn examples() -> Vec<Vec<u8>> {
    ["quickstart", "hub-and-spoke"]
        .iter()
        .map(|name| {
            let path = format!(
                "{}/../../examples/{name}/mto.yaml",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::read(path).expect("example exists")
        })
        .collect()
}

use mtoctl_model::spec::fuzzing::load_checked;

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    DeleteLine(usize),
    DuplicateLine(usize),
    Insert { at: usize, piece: &'static str },
    Truncate(usize),
}

const PIECES: &[&str] = &[
    ":",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "!!binary ",
    "~",
    "'",
    "\"",
    "\n  ",
    "\t",
    "#",
    "<<: *a\n",
    "null",
    "true",
    "1e999",
    "0x10",
    "\u{feff}",
    "é",
    "\u{0}",
    "---\n",
    "...\n",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), proptest::sample::select(PIECES))
            .prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Flip { at, byte } => {
                let i = at % bytes.len();
                bytes[i] = *byte;
            }
            Mutation::DeleteLine(n) | Mutation::DuplicateLine(n) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                let i = n % lines.len();
                if matches!(m, Mutation::DeleteLine(_)) {
                    lines.remove(i);
                } else {
                    let line = lines[i].clone();
                    lines.insert(i, line);
                }
                bytes = lines.join(&b'\n');
            }
            Mutation::Insert { at, piece } => {
                let i = at % (bytes.len() + 1);
                bytes.splice(i..i, piece.bytes());
            }
            Mutation::Truncate(n) => bytes.truncate(n % bytes.len()),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        load_checked(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        load_checked(text.as_bytes());
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..2,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let base = examples().swap_remove(which);
        load_checked(&apply(base, &mutations));
    }
}

#[test]
fn the_examples_themselves_are_valid() {
    for bytes in examples() {
        assert!(mtoctl_model::spec::load("example.yaml", &bytes).is_ok());
    }
}

#[test]
fn loading_is_deterministic() {
    for bytes in examples() {
        let a = mtoctl_model::spec::load("e.yaml", &bytes)
            .expect("valid")
            .desired;
        let b = mtoctl_model::spec::load("e.yaml", &bytes)
            .expect("valid")
            .desired;
        assert_eq!(
            serde_json::to_string(&a).expect("json"),
            serde_json::to_string(&b).expect("json")
        );
    }
}

/// Found by the `spec_load` fuzz target: the label of a byte that is not UTF-8 covered one byte
/// of the U+FFFD it is shown as, and after a byte order mark it pointed three bytes too early.
#[test]
fn an_invalid_byte_is_labelled_as_the_character_it_is_shown_as() {
    for (bytes, at) in [
        (&b"kind: \xff\xfeMulti\n"[..], 6),
        (&b"\xef\xbb\xbfkind: \xc3\x28Multi\n"[..], 9),
    ] {
        load_checked(bytes);
        let d = mtoctl_model::spec::load("x.yaml", bytes).expect_err("not UTF-8");
        let label = &d.items()[0].labels[0];
        assert_eq!(label.span.offset, at, "{:?}", d.items()[0]);
        assert_eq!(&d.source().text()[at..at + label.span.len], "\u{FFFD}");
    }
}
