//! `harness demo` prints exactly the workspace README's "real output" block: the README is
//! the one source of truth, and `BLESS=1` rewrites the block from the command when the story
//! changes on purpose.

use crate::support::{harness, modules_dir, stderr, stdout};

/// The line before the block, in the README.
const MARKER: &str = "The demo prints (real output):";

#[test]
fn the_readme_shows_what_the_demo_prints() {
    let dir = modules_dir();
    let out = harness(&["demo", "--modules-dir", dir.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    let path = integration::workspace_root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let block = integration::fenced_block_after(&readme, MARKER)
        .unwrap_or_else(|e| panic!("README.md: {e}"));
    if integration::blessing() {
        let text = format!(
            "{}{printed}{}",
            &readme[..block.start],
            &readme[block.end..]
        );
        std::fs::write(&path, text).expect("write README.md");
        return;
    }
    assert_eq!(
        &readme[block.clone()],
        printed,
        "README.md's demo output (left) is not what `harness demo` prints (right); if the \
         command is right, rerun with BLESS=1 to rewrite the block"
    );
}
