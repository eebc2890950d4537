//! The ATen operator registry: schemas from data, properties, and shape/dtype inference.
//!
//! - `schemas.txt` holds every `aten::`/`prims::` schema string of the PyTorch release it was
//!   dumped from (`scripts/dump_schemas.py`); `op_tags.txt` holds the operator tags trtfx uses
//!   (`core`, `pointwise`, `nondeterministic_seeded`, ...). Both are parsed once, on first use.
//! - Properties come from the schema (alias annotations give `view` and `mutates`) and tags.
//! - Inference rules are table-driven by operator family (see [`infer`]); in-place and `out=`
//!   overloads get the type of the argument they write.
//! - The Python-level symbolic scalar targets (`_operator.add`, `math.floor`, `torch.sym_max`)
//!   are registered too, with hand-written schemas.
//!
//! [`infer_program`] recomputes every node's result types; [`check_program`] compares inference
//! with the types the export recorded.

pub mod decomp;
pub mod infer;
pub mod promote;
mod run;
pub mod schema_parse;

pub use infer::{with_context, Autocast, InferContext};
pub use promote::{
    broadcast_shapes, promote_types, result_type, NoRanges, Operand, PromotionKind, ScalarKind,
    SymRanges,
};
pub use run::{
    check_program, infer_node, infer_node_with, infer_program, types_agree, CheckReport,
    Disagreement, InferError, InferReport,
};
pub use schema_parse::{parse_schema, registry_name, ParsedSchema, SchemaParseError};

use crate::ops::{
    BaseType, Effects, InferArgs, InferFn, OpDef, OpProps, OpRegistry, OpTags, Schema,
};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The schema data file (one schema string per line, `#` comments).
pub const SCHEMAS: &str = include_str!("schemas.txt");
/// The operator tags data file (`<registry name> <tag>,<tag>`).
pub const OP_TAGS: &str = include_str!("op_tags.txt");

/// The standard registry: every ATen/prims schema, the symbolic scalar targets, properties and
/// inference rules. Built once per process.
pub fn registry() -> &'static OpRegistry {
    static REG: OnceLock<OpRegistry> = OnceLock::new();
    REG.get_or_init(build_registry)
}

/// A copy of the standard registry, for users to extend with custom ops.
pub fn standard_registry() -> OpRegistry {
    registry().clone()
}

/// Tags of an operator by registry name (`core`, `pointwise`, ...), from `op_tags.txt`.
pub fn op_tags(name: &str) -> &'static [&'static str] {
    static TAGS: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    TAGS.get_or_init(|| {
        OP_TAGS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| (n, t.trim().split(',').collect()))
            .collect()
    })
    .get(name)
    .map(|v| v.as_slice())
    .unwrap_or(&[])
}

/// Schema lines of `schemas.txt` that do not parse (should be empty; a test checks).
pub fn unparsed_schemas() -> Vec<(String, SchemaParseError)> {
    SCHEMAS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| parse_schema(l).err().map(|e| (l.to_string(), e)))
        .collect()
}

/// Ops whose result is elementwise over (broadcast) inputs although not tagged `pointwise`.
const ELEMENTWISE_EXTRA: &[&str] = &[
    "hardswish",
    "leaky_relu",
    "prelu",
    "_prelu_kernel",
    "dropout",
    "alias",
    "detach",
    "contiguous",
    "_to_copy",
    "to",
    "lift_fresh_copy",
    "masked_fill",
    "bitwise_not",
    "logical_not",
    "fill",
    "rsub",
    "floor_divide",
    "clamp_min",
    "clamp_max",
    "copy",
    "convert_element_type",
];

fn is_other(t: &crate::ops::SchemaType) -> bool {
    matches!(t.base, BaseType::Other(_))
}

/// True for schemas over tensors (or effects), not TorchScript's scalar/list overloads.
fn tensor_level(s: &Schema) -> bool {
    let no_other = !s.args.iter().any(|a| is_other(&a.ty)) && !s.returns.iter().any(is_other);
    let has_tensor = s.args.iter().any(|a| a.ty.base == BaseType::Tensor)
        || s.returns.iter().any(|r| r.base == BaseType::Tensor);
    no_other && (has_tensor || s.returns.is_empty())
}

/// Tags and effects from the schema's alias annotations and the `native_functions.yaml` tags.
fn tags_and_effects(p: &ParsedSchema, tags: &[&str]) -> (OpTags, Effects) {
    let s = &p.schema;
    let base = p.name.split('.').nth(1).unwrap_or("");
    let mutates: SmallVec<[u8; 2]> = s
        .args
        .iter()
        .enumerate()
        .filter(|(_, a)| a.mutable)
        .map(|(i, _)| i as u8)
        .collect();
    // The argument whose (read-only) alias set a result shares.
    let view_of = if mutates.is_empty() {
        p.return_alias.iter().flatten().find_map(|r| {
            (!r.write)
                .then(|| {
                    p.arg_alias
                        .iter()
                        .position(|a| a.as_ref().is_some_and(|a| !a.write && a.set == r.set))
                })
                .flatten()
                .map(|i| i as u8)
        })
    } else {
        None
    };
    let random = tags.contains(&"nondeterministic_seeded") || RANDOM_EXTRA.contains(&base);
    let side_effect = s.returns.is_empty()
        || base.starts_with("_assert")
        || base.starts_with("sym_constrain_range")
        || base.starts_with("_functional_sym_constrain_range")
        || base.starts_with("_functional_assert")
        || SIDE_EFFECT_EXTRA.contains(&base);
    let is_out = s.args.iter().any(|a| a.kwarg_only && a.mutable);
    let op_tags = OpTags {
        core: tags.contains(&"core"),
        pointwise: tags.contains(&"pointwise") || ELEMENTWISE_EXTRA.contains(&base),
        view: view_of.is_some(),
        inplace: !mutates.is_empty() && !is_out,
        random,
        nondeterministic: tags.contains(&"nondeterministic_bitwise"),
    };
    let effects = Effects {
        mutates,
        view_of,
        random,
        side_effect,
    };
    (op_tags, effects)
}

/// Random ops that `native_functions.yaml` does not tag `nondeterministic_seeded` (they take
/// a `train` flag or call a seeded op inside).
const RANDOM_EXTRA: &[&str] = &[
    "dropout",
    "feature_dropout",
    "alpha_dropout",
    "feature_alpha_dropout",
    "native_dropout",
    "rrelu",
    "_standard_gamma",
    "_sample_dirichlet",
];

/// Ops with effects that their schema does not show.
const SIDE_EFFECT_EXTRA: &[&str] = &[
    "_print",
    "_make_dep_token",
    "record_stream",
    "_local_scalar_dense_effectful",
];

fn props_of(tags: &OpTags, effects: &Effects) -> OpProps {
    OpProps {
        pure: effects.mutates.is_empty() && !effects.side_effect && !effects.random,
        view: tags.view,
        elementwise: tags.pointwise,
        mutates: !effects.mutates.is_empty(),
    }
}

fn make_infer(name: String, schema: Schema, rule: infer::Rule) -> InferFn {
    Arc::new(move |a: &InferArgs<'_>| {
        let c = infer::Call {
            op: &name,
            schema: &schema,
            a,
        };
        rule(&c)
    })
}

fn build_registry() -> OpRegistry {
    let mut reg = OpRegistry::new();
    for line in SCHEMAS.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        // Unparseable lines are reported by `unparsed_schemas` (and a test), not fatal here.
        let Ok(p) = parse_schema(line) else { continue };
        let tags = op_tags(&p.name);
        let (op_tags, effects) = tags_and_effects(&p, tags);
        let props = props_of(&op_tags, &effects);
        let rule = infer::rule_for(&p.name, &p.schema, tags, tensor_level(&p.schema));
        let infer = rule.map(|r| make_infer(p.name.clone(), p.schema.clone(), r));
        reg.register(OpDef {
            name: p.name,
            schema: Some(p.schema),
            props,
            tags: op_tags,
            effects,
            infer,
            infer_via_decomposition: false,
            decomposition: None,
        });
    }
    for (name, sig) in infer::sym::SYM_OPS {
        let Ok(p) = parse_schema(&format!("{}{sig}", name.replace('.', "::"))) else {
            continue;
        };
        reg.register(OpDef {
            name: name.to_string(),
            schema: Some(p.schema.clone()),
            props: OpProps {
                pure: true,
                ..OpProps::default()
            },
            tags: OpTags::default(),
            effects: Effects::default(),
            infer: Some(make_infer(name.to_string(), p.schema, infer::sym::sym_op)),
            infer_via_decomposition: false,
            decomposition: None,
        });
    }
    decomp::register(&mut reg);
    // Ops with a decomposition but no rule of their own are inferred through it.
    let names: Vec<String> = reg
        .iter()
        .filter(|d| d.infer.is_none() && d.decomposition.is_some())
        .map(|d| d.name.clone())
        .collect();
    for n in names {
        let f = decomp::infer_through(&reg, &n);
        if let Some(d) = reg.get_mut(&n) {
            d.infer_via_decomposition = f.is_some();
            d.infer = f;
        }
    }
    reg
}
