//! The `memory-apiserver` binary: preloads a CRD from `--crd FILE`, prints a kubeconfig path,
//! and kubectl works against it (`/usr/bin/kubectl` or `$KUBECTL`; fails when missing).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

/// Stops the server when the test ends, however it ends: SIGINT (the binary then removes its
/// kubeconfig), SIGKILL if that fails.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !interrupted {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

#[test]
fn memory_apiserver_preloads_a_crd_and_serves_kubectl() -> Result<(), Box<dyn std::error::Error>> {
    let kubectl = std::env::var_os("KUBECTL").map_or_else(|| PathBuf::from("/usr/bin/kubectl"), PathBuf::from);
    assert!(
        kubectl.exists(),
        "kubectl not found at {} (set KUBECTL)",
        kubectl.display()
    );
    let mut crd = tempfile::NamedTempFile::new()?;
    crd.write_all(CRD.as_bytes())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_memory-apiserver"))
        .arg("--crd")
        .arg(crd.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut kubeconfig = String::new();
    BufReader::new(stdout).read_line(&mut kubeconfig)?;
    let kubeconfig = kubeconfig.trim().to_owned();
    assert!(
        std::path::Path::new(&kubeconfig).exists(),
        "printed kubeconfig {kubeconfig:?}"
    );

    let run = |args: &[&str], stdin: Option<&str>| -> Result<String, Box<dyn std::error::Error>> {
        let mut cmd = Command::new(&kubectl)
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let (Some(input), Some(mut pipe)) = (stdin, cmd.stdin.take()) {
            pipe.write_all(input.as_bytes())?;
        }
        let out = cmd.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!("kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(text)
    };
    assert_eq!(
        run(&["get", "crd", "-o", "name"], None)?.trim(),
        "customresourcedefinition.apiextensions.k8s.io/gadgets.example.com"
    );
    let gadget = "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 2}\n";
    assert!(run(&["apply", "--server-side", "-f", "-"], Some(gadget))?.contains("serverside-applied"));
    assert_eq!(run(&["get", "gd", "-o", "name"], None)?.trim(), "gadget.example.com/g1");
    drop(server);
    assert!(
        !std::path::Path::new(&kubeconfig).exists(),
        "the kubeconfig is removed on interrupt"
    );
    Ok(())
}
