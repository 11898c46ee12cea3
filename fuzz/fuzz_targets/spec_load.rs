//! The whole spec pipeline (`mtoctl_model::spec::load`: decode, YAML, secrets, schema,
//! validation) on arbitrary bytes. It must never panic or hang, a refused spec must name at
//! least one error, every label must point inside the text at character boundaries, and
//! rendering the findings must not panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| mtoctl_model::spec::fuzzing::load_checked(bytes));
