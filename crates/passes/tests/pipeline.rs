//! Pipeline text: parsing, printing back, named pipelines and positional errors.

use trtfx_ir::Program;
use trtfx_passes::options::{OptionMap, OptionReader, PassOptions};
use trtfx_passes::{Pass, PassCx, PassError, PassOutcome, PassRegistry};

fn reg() -> PassRegistry {
    PassRegistry::with_builtins()
}

fn err(text: &str) -> String {
    reg().parse_pipeline(text).unwrap_err().to_string()
}

#[test]
fn round_trip() {
    for text in [
        "dce,cse,fold-constants{max-elements=1024},fixpoint{max=4}(canonicalize,dce),each-subgraph(cse)",
        "dce",
        "fixpoint(cse,fixpoint{max=2}(dce))",
        "each-subgraph(fixpoint{max=3}(canonicalize,cse),dce),infer-types",
        "",
    ] {
        let p = reg().parse_pipeline(text).unwrap();
        assert_eq!(p.to_string(), text);
    }
}

#[test]
fn whitespace_and_defaults_normalise() {
    let p = reg()
        .parse_pipeline(" dce , fold-constants { max-elements = 16 } , fixpoint ( cse ) ")
        .unwrap();
    assert_eq!(
        p.to_string(),
        "dce,fold-constants{max-elements=16},fixpoint(cse)"
    );
    // Options built programmatically print only when they differ from the default.
    let f = trtfx_passes::passes::FoldConstants::default();
    assert_eq!(f.options().to_text(&[]), "");
    let f = trtfx_passes::passes::FoldConstants {
        options: trtfx_passes::passes::fold::FoldOptions { max_elements: 7 },
        evaluator: None,
    };
    assert_eq!(f.options().to_text(&[]), "{max-elements=7}");
}

#[test]
fn named_pipeline_expands() {
    let p = reg().parse_pipeline("default").unwrap();
    assert_eq!(p.to_string(), trtfx_passes::DEFAULT_PIPELINE);
    let p = reg().parse_pipeline("dce,default").unwrap();
    assert_eq!(
        p.to_string(),
        format!("dce,{}", trtfx_passes::DEFAULT_PIPELINE)
    );
}

#[test]
fn recursive_named_pipeline() {
    let mut r = reg();
    r.register_pipeline("a", "", "dce,b");
    r.register_pipeline("b", "", "a");
    let e = r.parse_pipeline("a").unwrap_err().to_string();
    insta::assert_snapshot!(e, @r"
    in named pipeline `a` (used at 1:1): in named pipeline `b` (used at 1:5): named pipeline `a` expands to itself at 1:1
      a
      ^
    ");
}

#[test]
fn unknown_pass_suggests() {
    insta::assert_snapshot!(err("cze,dce"), @r"
    unknown pass `cze` at 1:1; did you mean `cse`?
      cze,dce
      ^
    ");
    insta::assert_snapshot!(err("dce,fixpoint(canonicalise)"), @r"
    unknown pass `canonicalise` at 1:14; did you mean `canonicalize`?
      dce,fixpoint(canonicalise)
                   ^
    ");
    insta::assert_snapshot!(err("dce,frobnicate"), @r"
    unknown pass `frobnicate` at 1:5
      dce,frobnicate
          ^
    ");
}

#[test]
fn option_errors() {
    insta::assert_snapshot!(err("fold-constants{max-elemnts=3}"), @r"
    pass `fold-constants` has no option `max-elemnts` at 1:16; did you mean `max-elements`?
      fold-constants{max-elemnts=3}
                     ^
    ");
    insta::assert_snapshot!(err("fold-constants{max-elements=lots}"), @r"
    invalid value `lots` for option `max-elements` of pass `fold-constants`: expected an unsigned integer at 1:29
      fold-constants{max-elements=lots}
                                  ^
    ");
    insta::assert_snapshot!(err("dce{aggressive=true}"), @r"
    pass `dce` has no option `aggressive` at 1:5; it takes no options
      dce{aggressive=true}
          ^
    ");
    insta::assert_snapshot!(err("fixpoint{max=0}(dce)"), @r"
    option `max` of `fixpoint` must be at least 1 at 1:14
      fixpoint{max=0}(dce)
                   ^
    ");
    insta::assert_snapshot!(err("fold-constants{max-elements=1,max-elements=2}"), @r"
    option `max-elements` of pass `fold-constants` is given twice at 1:31
      fold-constants{max-elements=1,max-elements=2}
                                    ^
    ");
}

#[test]
fn syntax_errors() {
    insta::assert_snapshot!(err("dce,,cse"), @r"
    expected a pass name at 1:5, found `,`
      dce,,cse
          ^
    ");
    insta::assert_snapshot!(err("fixpoint(dce,cse"), @r"
    unbalanced parentheses: missing `)` at 1:17
      fixpoint(dce,cse
                      ^
    ");
    insta::assert_snapshot!(err("dce)"), @r"
    unbalanced `)` at 1:4
      dce)
         ^
    ");
    insta::assert_snapshot!(err("cse(dce)"), @r"
    pass `cse` does not take a nested pipeline at 1:4
      cse(dce)
         ^
    ");
    insta::assert_snapshot!(err("fixpoint{max=2}"), @r"
    `fixpoint` needs a nested pipeline at 1:1: `fixpoint(pass,...)`
      fixpoint{max=2}
      ^
    ");
    insta::assert_snapshot!(err("default{x=1}"), @r"
    named pipeline `default` takes no options at 1:9
      default{x=1}
              ^
    ");
    insta::assert_snapshot!(err("fold-constants{max-elements}"), @r"
    expected `=` after option `max-elements` at 1:28, found `}`
      fold-constants{max-elements}
                                 ^
    ");
    insta::assert_snapshot!(err("fold-constants{max-elements=[1,2"), @r"
    unbalanced brackets: missing `]` at 1:33
      fold-constants{max-elements=[1,2
                                      ^
    ");
}

/// A pass with list and string options, to check typed options round trip.
struct Listy {
    ops: Vec<String>,
    label: String,
    n: u64,
}

impl Pass for Listy {
    fn name(&self) -> &str {
        "listy"
    }
    fn options(&self) -> PassOptions {
        PassOptions::new()
            .with("ops", &self.ops, &vec![])
            .with("label", &self.label, &String::new())
            .with("n", &self.n, &3)
    }
    fn run(&mut self, _: &mut Program, _: &mut PassCx) -> Result<PassOutcome, PassError> {
        Ok(PassOutcome::unchanged())
    }
}

fn listy_registry() -> PassRegistry {
    let mut r = reg();
    r.register_pass("listy", "test pass", |o: &OptionMap| {
        let mut rd = OptionReader::new("listy", o);
        let ops = rd.get("ops", Vec::<String>::new())?;
        let label = rd.get("label", String::new())?;
        let n = rd.get("n", 3u64)?;
        rd.finish()?;
        Ok(Box::new(Listy { ops, label, n }))
    });
    r
}

#[test]
fn list_and_string_options_round_trip() {
    let r = listy_registry();
    for text in [
        "listy{ops=[aten.embedding.default,aten.add.Tensor],label=\"two words\"}",
        "listy{ops=[]}",
        "listy{n=3}",
        "listy",
    ] {
        assert_eq!(r.parse_pipeline(text).unwrap().to_string(), text);
    }
    // A bare word is a one-element list; spaces separate options like commas.
    let p = r
        .parse_pipeline("listy{ops=aten.relu.default n=5}")
        .unwrap();
    assert_eq!(p.to_string(), "listy{ops=[aten.relu.default],n=5}");
    let e = r
        .parse_pipeline("listy{ops=[[a]]}")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid value `[[a]]` for option `ops` of pass `listy`"),
        "{e}"
    );
}
