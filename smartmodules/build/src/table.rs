//! A table only dead code can call through, dropped before wasm-opt runs.
//!
//! Rust puts the formatting functions of the allocator's out-of-memory message in the
//! module's function table, which no live code calls through: the modules make no indirect
//! call. wasm-opt keeps every function a table holds (any number could be a table index), so
//! those 2 KB of `core::fmt` would be compiled on every produce request. Where the table is
//! the module's own (neither imported nor exported) and no function reachable from an export
//! touches it, its elements can never be called: this drops the element section, and wasm-opt
//! then removes the functions only it referred to. Anything else leaves the module as it was.

use std::collections::BTreeSet;

use wasmparser::{ExternalKind, Operator, Parser, Payload, TypeRef};

/// Section id of the element section.
const ELEMENT: u8 = 9;

/// What one function body does with the table, and whom it calls directly.
#[derive(Default)]
struct Body {
    calls: Vec<u32>,
    uses_table: bool,
}

/// The module without its element section, or `None` when it must stay (the table is shared
/// with the host, live code may call through it, or an instruction names a segment or takes a
/// function's reference).
pub fn drop_dead_table(wasm: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut imported_functions = 0u32;
    let mut roots = Vec::new();
    let mut bodies: Vec<Body> = Vec::new();
    let mut sections: Vec<(u8, std::ops::Range<usize>)> = Vec::new();
    let mut has_elements = false;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        if let Some((id, range)) = payload.as_section() {
            sections.push((id, range));
        }
        match payload {
            Payload::ImportSection(reader) => {
                for import in reader {
                    match import.map_err(|e| e.to_string())?.ty {
                        TypeRef::Func(_) => imported_functions += 1,
                        TypeRef::Table(_) => return Ok(None),
                        _ => {}
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| e.to_string())?;
                    match export.kind {
                        ExternalKind::Func => roots.push(export.index),
                        ExternalKind::Table => return Ok(None),
                        _ => {}
                    }
                }
            }
            Payload::StartSection { func, .. } => roots.push(func),
            Payload::GlobalSection(reader) => {
                for global in reader {
                    if global
                        .map_err(|e| e.to_string())?
                        .ty
                        .content_type
                        .is_reference_type()
                    {
                        return Ok(None);
                    }
                }
            }
            Payload::ElementSection(_) => has_elements = true,
            Payload::CodeSectionEntry(body) => {
                let mut found = Body::default();
                let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
                while !ops.eof() {
                    match ops.read().map_err(|e| e.to_string())? {
                        Operator::Call { function_index }
                        | Operator::ReturnCall { function_index } => {
                            found.calls.push(function_index)
                        }
                        Operator::CallIndirect { .. }
                        | Operator::ReturnCallIndirect { .. }
                        | Operator::TableGet { .. }
                        | Operator::TableSet { .. }
                        | Operator::TableGrow { .. }
                        | Operator::TableSize { .. }
                        | Operator::TableFill { .. }
                        | Operator::TableCopy { .. }
                        | Operator::CallRef { .. }
                        | Operator::ReturnCallRef { .. } => found.uses_table = true,
                        // These name element segments or need a function declared by one:
                        // without the section the module would not validate.
                        Operator::TableInit { .. }
                        | Operator::ElemDrop { .. }
                        | Operator::RefFunc { .. } => return Ok(None),
                        _ => {}
                    }
                }
                bodies.push(found);
            }
            _ => {}
        }
    }
    if !has_elements {
        return Ok(None);
    }
    let mut live = BTreeSet::new();
    let mut todo = roots;
    while let Some(f) = todo.pop() {
        if !live.insert(f) {
            continue;
        }
        let Some(body) = f
            .checked_sub(imported_functions)
            .and_then(|i| bodies.get(i as usize))
        else {
            continue;
        };
        if body.uses_table {
            return Ok(None);
        }
        todo.extend(body.calls.iter().copied());
    }
    let mut out = wasm.get(..8).ok_or("shorter than a wasm header")?.to_vec();
    for (id, range) in sections {
        if id == ELEMENT {
            continue;
        }
        let content = wasm.get(range).ok_or("a section past the end")?;
        out.push(id);
        leb128(&mut out, content.len() as u64);
        out.extend_from_slice(content);
    }
    Ok(Some(out))
}

fn leb128(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(wat: &str) -> Vec<u8> {
        wat::parse_str(wat).unwrap()
    }

    fn has_element_section(wasm: &[u8]) -> bool {
        Parser::new(0)
            .parse_all(wasm)
            .any(|p| matches!(p, Ok(Payload::ElementSection(_))))
    }

    /// A table referred to only by a function no export reaches.
    const DEAD: &str = r#"(module
        (table 2 2 funcref)
        (elem (i32.const 0) $fmt $helper)
        (func $fmt (param i32) (result i32) (call_indirect (param i32) (result i32) (local.get 0) (i32.const 1)))
        (func $helper (param i32) (result i32) (local.get 0))
        (func $oom (result i32) (i32.const 0))
        (func (export "run") (result i32) (call $oom)))"#;

    #[test]
    fn a_table_only_dead_code_calls_through_is_dropped_and_the_rest_kept() {
        let before = module(DEAD);
        let after = drop_dead_table(&before).unwrap().expect("dropped");
        assert!(has_element_section(&before));
        assert!(!has_element_section(&after));
        wasmparser::Validator::new().validate_all(&after).unwrap();
        // Everything else is byte for byte the same.
        assert!(after.len() < before.len());
    }

    #[test]
    fn a_table_live_code_may_call_through_stays() {
        for wat in [
            // An export calls through it.
            r#"(module (table 1 1 funcref) (elem (i32.const 0) $f)
                (func $f (result i32) (i32.const 7))
                (func (export "run") (result i32) (call_indirect (result i32) (i32.const 0))))"#,
            // Through a direct call, two levels down.
            r#"(module (table 1 1 funcref) (elem (i32.const 0) $f)
                (func $f (result i32) (i32.const 7))
                (func $g (result i32) (call_indirect (result i32) (i32.const 0)))
                (func $h (result i32) (call $g))
                (func (export "run") (result i32) (call $h)))"#,
            // The host can reach it.
            r#"(module (table (export "t") 1 1 funcref) (elem (i32.const 0) $f)
                (func $f (result i32) (i32.const 7)))"#,
            // A function's reference is taken, even in dead code.
            r#"(module (table 1 1 funcref) (elem declare func $f) (elem (i32.const 0) $f)
                (func $f (result i32) (i32.const 7))
                (func $dead (drop (ref.func $f)))
                (func (export "run") (result i32) (i32.const 1)))"#,
        ] {
            assert_eq!(drop_dead_table(&module(wat)).unwrap(), None, "{wat}");
        }
    }

    #[test]
    fn a_module_without_elements_is_left_alone() {
        let m = module(r#"(module (func (export "run") (result i32) (i32.const 1)))"#);
        assert_eq!(drop_dead_table(&m).unwrap(), None);
    }
}
