//! `coldctr ps`, `container inspect` and `timeline` on the seized Docker 28.5 / containerd 2.1.9
//! node (`fixtures/node-docker28-dev.tar.gz`), against what dockerd and ctr printed for it
//! while it ran (`fixtures/expected/node-docker28-dev/`: `ps-a.jsonl`, `containers/<name>/
//! inspect.json`, `ctr/moby/containers/<id>.json`, `ctr/moby/snapshots-info.json`; see the
//! README there), and on hostile Docker stores made at run time.
//!
//! Only the members the commands read are unpacked (meta.db, the task bundle dirs, Docker's
//! containers dir): none of them is a device node or needs an xattr, so this runs unprivileged
//! as well as as root.

mod bolt_support;
mod docker28_node;
mod unprivileged;

use bolt_support::{coldctr, repo};
use docker28_node::CONTAINERS;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Node {
    dir: tempfile::TempDir,
}

impl Node {
    fn root(&self) -> PathBuf {
        self.dir.path().join("var/lib/containerd")
    }
    fn docker(&self) -> PathBuf {
        self.dir.path().join("var/lib/docker")
    }
}

fn unpack() -> Node {
    let dir = tempfile::tempdir().expect("tempdir");
    docker28_node::unpack_members(
        dir.path(),
        &[
            "./var/lib/containerd/io.containerd.metadata.v1.bolt",
            "./var/lib/containerd/io.containerd.runtime.v2.task",
            "./var/lib/docker/containers",
        ],
    );
    Node { dir }
}

fn expected_path(name: &str) -> PathBuf {
    repo().join("fixtures/expected/node-docker28-dev").join(name)
}

fn expected_text(name: &str) -> String {
    let p = expected_path(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn run(root: &Path, args: &[&str]) -> bolt_support::Run {
    let mut all = vec!["--root".to_string(), root.display().to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    coldctr(&all)
}

fn lines_json(b: &[u8]) -> Vec<Value> {
    String::from_utf8(b.to_vec())
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn comma_set(v: &Value) -> BTreeSet<String> {
    v.as_str()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// STATUS without its age: `Exited (137) 1 second ago` -> `Exited (137)`, `Up 1 second` ->
/// `Up`; ours has recorded times there instead (`Exited (137) at T`, `Up since T (at seizure)`).
fn status_head(s: &str) -> String {
    if let Some(rest) = s.strip_prefix("Exited (") {
        let code = rest.split(')').next().unwrap_or_default();
        return format!("Exited ({code})");
    }
    s.split(' ').next().unwrap_or_default().to_string()
}

#[test]
fn ps_agrees_with_docker_ps_a() {
    let node = unpack();
    // docker's capture was `ps -a --no-trunc --format '{{json .}}'`.
    let r = run(&node.root(), &["ps", "-a", "--no-trunc", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let ours = lines_json(&r.stdout);
    let docker = lines_json(expected_text("ps-a.jsonl").as_bytes());
    assert_eq!(docker.len(), 8);
    // Same containers, in docker's order (newest first).
    let ids = |v: &[Value]| {
        v.iter()
            .map(|o| o["ID"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&ours), ids(&docker));
    for (o, d) in ours.iter().zip(&docker) {
        let name = d["Names"].as_str().unwrap();
        for key in [
            "ID",
            "Names",
            "Image",
            "Command",
            "CreatedAt",
            "State",
            "LocalVolumes",
            "Networks",
            "Platform",
            "Ports",
        ] {
            assert_eq!(o[key], d[key], "{name}: {key}");
        }
        // docker's CLI joins Labels and Mounts in Go map order (random): compared as sets.
        assert_eq!(comma_set(&o["Labels"]), comma_set(&d["Labels"]), "{name}: Labels");
        assert_eq!(comma_set(&o["Mounts"]), comma_set(&d["Mounts"]), "{name}: Mounts");
        // Status carries an age relative to the capture's clock: the words before it must agree.
        let (os, ds) = (o["Status"].as_str().unwrap(), d["Status"].as_str().unwrap());
        assert_eq!(status_head(os), status_head(ds), "{name}: Status {os:?} vs {ds:?}");
        // An age is not printed. Size is not measured without --size (`json` is a format key,
        // not a template reading .Size) and is docker's `0B` then: dockerd's own
        // `ps -a --no-trunc --format json` in fixtures/expected/docker-28.5/cli prints it so.
        assert!(o.get("RunningFor").is_none(), "{name}");
        assert_eq!(o["Size"], "0B", "{name}");
        assert!(o.get("SizeRw").is_none() && o.get("SizeRootFs").is_none(), "{name}");
    }
    // The running container is flagged as such, with its containerd record and task bundle.
    let running = ours.iter().find(|o| o["Names"] == "dev-running").unwrap();
    assert_eq!(running["TaskAtSeizure"], true);
    assert_eq!(running["ContainerdRecord"], true);
    assert_eq!(running["Status"], "Up since 2026-11-29T18:52:01Z (at seizure)");
    let exit3 = ours.iter().find(|o| o["Names"] == "dev-exit3").unwrap();
    assert_eq!(
        (exit3["RestartPolicy"].as_str(), exit3["RestartCount"].as_i64()),
        (Some("on-failure:2"), Some(2))
    );
    // Without -a: only what was running.
    let r = run(&node.root(), &["ps", "--no-trunc", "--format", "json"]);
    assert_eq!(
        ids(&lines_json(&r.stdout)),
        vec![running["ID"].as_str().unwrap().to_string()]
    );
    // Without --no-trunc, cut as docker's formatter cuts: ID 12, COMMAND 20, an image ID 12.
    let r = run(&node.root(), &["ps", "-a", "--format", "json"]);
    let cut = lines_json(&r.stdout);
    for (c, full) in cut.iter().zip(&ours) {
        let id = full["ID"].as_str().unwrap();
        assert_eq!(c["ID"].as_str().unwrap(), &id[..12]);
        let (command, whole) = (c["Command"].as_str().unwrap(), full["Command"].as_str().unwrap());
        // Quoted (strconv.Quote) after the cut: the escapes do not count.
        assert_eq!(command == whole, !command.ends_with("…\""), "{command}");
    }
    let victim = cut.iter().find(|o| o["Names"] == "dev-victim").unwrap();
    assert_eq!(victim["Image"], "3b93a12cc4b0");
    assert_eq!(cut[0]["Command"], "\"sh -c 'echo running…\"");
    // docker's filters: keys AND'd, values of one key OR'd.
    let names = |args: &[&str]| -> Vec<String> {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        lines_json(&r.stdout)
            .iter()
            .map(|o| o["Names"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&["ps", "-a", "--format", "json", "-f", "exited=137"]),
        ["dev-killed"]
    );
    // `ancestor=` resolves images, which needs their content: tests/ancestor.rs.
    assert_eq!(
        names(&["ps", "-a", "--format", "json", "-f", "name=^/dev-(ex|ki)"]),
        ["dev-killed", "dev-exit3"]
    );
    assert_eq!(
        names(&[
            "ps",
            "-a",
            "--format",
            "json",
            "-f",
            "status=created",
            "-f",
            "status=running"
        ]),
        ["dev-running", "dev-created"]
    );
    assert_eq!(
        names(&["ps", "--format", "json", "--last", "2"]),
        ["dev-running", "dev-killed"]
    );
    let r = run(&node.root(), &["ps", "-f", "status=gone"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("invalid filter 'status=gone'"), "{}", r.stderr);
    // The table: docker's columns and rows; IDs cut to 12.
    let r = run(&node.root(), &["ps", "-a"]);
    let table = r.stdout_text();
    assert!(table.starts_with("CONTAINER ID   IMAGE"), "{table}");
    assert!(table.contains("974a14ba9fb0   3b93a12cc4b0 "), "{table}");
    assert_eq!(table.lines().count(), 9);
}

/// Fields of `docker container inspect` that cannot be known from disk, with what is printed.
/// On this node every one of them happens to equal what dockerd printed live, so none is
/// skipped below: `ExecIDs` (null: no exec ran), `State.Health` (no health check),
/// `State` of dev-running (dockerd printed the saved state: Running, its Pid),
/// `NetworkSettings` (network none: nothing live), `GraphDriver.Data` (null under the
/// containerd snapshotter). A node where they differ needs an entry here, with its reason.
const NOT_FROM_DISK: [(&str, &str); 0] = [];

#[test]
fn container_inspect_equals_docker_for_every_container() {
    let node = unpack();
    assert!(NOT_FROM_DISK.is_empty());
    for name in CONTAINERS {
        let r = run(&node.root(), &["container", "inspect", name]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        let want = expected_text(&format!("containers/{name}/inspect.json"));
        let got = r.stdout_text();
        if got != want {
            // Field by field, to say which.
            let (g, w): (Value, Value) = (
                serde_json::from_str(&got).unwrap(),
                serde_json::from_str(&want).unwrap(),
            );
            for (k, v) in w[0].as_object().unwrap() {
                assert_eq!(&g[0][k], v, "{name}: {k}");
            }
            panic!("{name}: same values, different bytes:\n{got}");
        }
    }
    // All at once, by ID prefix and by /name: one array in argument order.
    let r = run(&node.root(), &["container", "inspect", "/dev-killed", "8119bb51"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let both: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(both[0]["Name"], "/dev-killed");
    assert_eq!(both[1]["Name"], "/dev-exit3");
    // One not found: docker's message, the others still printed, exit 1.
    let r = run(&node.root(), &["container", "inspect", "nope", "dev-victim"]);
    assert_eq!(r.code, Some(1));
    // dockerd's 404 as the v28 client words it, after the output, without our prefix.
    assert_eq!(r.stderr, "Error response from daemon: No such container: nope\n");
    let one: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(one.as_array().unwrap().len(), 1);
    // With -f and none found: the error, and the newline docker's inspector flushes when its
    // buffer is empty (sweep 8 #6: nothing was written).
    let r = run(&node.root(), &["container", "inspect", "-f", "{{.Name}}", "nope"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stderr, "Error response from daemon: No such container: nope\n");
    assert_eq!(r.stdout_text(), "\n");
    // -f: a Go template on each container, as docker runs it.
    let r = run(
        &node.root(),
        &[
            "container",
            "inspect",
            "-f",
            "{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}",
            "dev-exit3",
            "dev-running",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "/dev-exit3 exited 3 2\n/dev-running running 0 0\n");
    // An ambiguous prefix (two IDs start with 8).
    let r = run(&node.root(), &["container", "inspect", "8"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("multiple IDs found"), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "[]\n");
}

/// `ps --format TEMPLATE` runs on docker's `ContainerContext`: each field is what docker's own
/// `ps -a --no-trunc --format '{{json .}}'` printed for it (the real capture), `.Label` takes a
/// key, and `table` adds docker's header row, laid out as Go's tabwriter lays it out.
#[test]
fn ps_templates_print_what_docker_ps_prints() {
    let node = unpack();
    // `.Header`, the field of the `formatter.HeaderContext` docker/cli's contexts embed: what
    // docker's CLI (20.10.24, against a private dockerd) printed for these templates.
    let r = run(&node.root(), &["ps", "-a", "--format", "{{.Header}}|{{.Names}}"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout_text().lines().all(|l| l.starts_with("<no value>|")),
        "{}",
        r.stdout_text()
    );
    let r = run(&node.root(), &["ps", "-a", "--format", "table {{.Header}}\t{{.Names}}"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout_text().starts_with("<no value>   NAMES\n<no value>   "),
        "{}",
        r.stdout_text()
    );
    let fields = [
        "ID",
        "Names",
        "Image",
        "Command",
        "CreatedAt",
        "State",
        "LocalVolumes",
        "Networks",
        "Ports",
    ];
    let template: Vec<String> = fields.iter().map(|f| format!("{{{{.{f}}}}}")).collect();
    let template = format!("{}|{{{{.Label \"org.example.set\"}}}}", template.join("|"));
    let r = run(&node.root(), &["ps", "-a", "--no-trunc", "--format", &template]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let docker = lines_json(expected_text("ps-a.jsonl").as_bytes());
    let want: Vec<String> = docker
        .iter()
        .map(|d| {
            let mut cells: Vec<String> = fields.iter().map(|f| d[*f].as_str().unwrap().to_string()).collect();
            // docker's Labels are its sorted k=v pairs; this key's value has no comma.
            let set = d["Labels"]
                .as_str()
                .unwrap()
                .split(',')
                .find_map(|kv| kv.strip_prefix("org.example.set="))
                .unwrap_or("");
            cells.push(set.to_string());
            cells.join("|") + "\n"
        })
        .collect();
    assert_eq!(r.stdout_text(), want.concat());
    // A table: docker's header names, columns as wide as their widest cell plus 3, at least 10.
    let r = run(
        &node.root(),
        &["ps", "-a", "--format", "table {{.ID}}\\t{{upper .Names}}\\t{{.State}}"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let text = r.stdout_text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("CONTAINER ID   NAMES             STATE"));
    assert_eq!(lines.next(), Some("942acddbaeac   DEV-RUNNING       running"));
    assert_eq!(lines.count(), 7);
    // A field docker's context does not have: nothing printed, docker's message, exit 1.
    let r = run(&node.root(), &["ps", "-a", "--format", "{{.Names}}{{.Nope}}"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout_text(), "");
    assert_eq!(
        r.stderr,
        "template parsing error: template: :1:12: executing \"\" at <.Nope>: \
         can't evaluate field Nope in type *formatter.ContainerContext\n"
    );
    // One that does not parse: exit 2.
    let r = run(&node.root(), &["ps", "--format", "{{.Names"]);
    assert_eq!(r.code, Some(2));
}

/// `{{json .}}` is docker/cli's `ContainerContext.MarshalJSON` (`json.Marshal`: `<`, `>` and
/// `&` escaped), `.Platform` a `formatter.Platform` that prints as `os/arch` and encodes as
/// the OCI platform object. Sweep 20, finding 9: both came out as `os/arch`, unescaped.
#[test]
fn ps_json_of_the_context_is_dockers_object() {
    let node = unpack();
    let docker_raw = expected_text("ps-a.jsonl");
    let docker = lines_json(docker_raw.as_bytes());
    let r = run(&node.root(), &["ps", "-a", "--no-trunc", "--format", "{{json .}}"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let ours_raw = r.stdout_text();
    let ours = lines_json(ours_raw.as_bytes());
    assert_eq!(ours.len(), docker.len());
    for ((o, d), (o_raw, d_raw)) in ours.iter().zip(&docker).zip(ours_raw.lines().zip(docker_raw.lines())) {
        // Every field docker printed but those of its clock (RunningFor, Status) and its
        // moment (Size).
        for (k, v) in d.as_object().unwrap() {
            match k.as_str() {
                "RunningFor" | "Status" | "Size" => {}
                // dockerd lists them from maps, in Go's random order.
                "Mounts" | "Networks" | "Labels" => assert_eq!(comma_set(&o[k]), comma_set(v), "{k}"),
                _ => assert_eq!(&o[k], v, "{k}"),
            }
        }
        // The same bytes: the escapes of `json.Marshal`.
        // The first value, up to its closing quote (a quote inside it is `\"`).
        let command = |line: &str| line.split(r#"",""#).next().unwrap().to_string();
        assert_eq!(command(o_raw), command(d_raw));
        assert!(d_raw.contains(r"\u003e") == o_raw.contains(r"\u003e") && !o_raw.contains('>'));
    }
    let r = run(
        &node.root(),
        &[
            "ps",
            "-a",
            "--no-trunc",
            "--format",
            "{{.Platform}} {{json .Platform}} {{.Platform.OS}}",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let want: Vec<String> = docker
        .iter()
        .map(|d| {
            let p = &d["Platform"];
            format!(
                "{}/{} {} {}\n",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap(),
                serde_json::to_string(p).unwrap(),
                p["os"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(r.stdout_text(), want.concat());
}

/// `ps --format raw` is docker/cli's `RawFormatKey` (v28.5.1 `NewContainerFormat`,
/// cli/command/formatter/container.go). No real capture of it exists: the expected text is
/// derived from that function's format strings (`container_id: {{.ID}}` ... `ports: {{- pad
/// .Ports 1 0}}`, then `size: {{.Size}}` with sizes on, each block ended by the formatter's
/// newline), filled with the fields of docker's own capture (`ps-a.jsonl`), but for
/// `.Status` and `.Size`, which are ours (docker's status is relative to its clock, and its
/// sizes were taken at another moment): those are our own `{{.Status}}` and `{{.Size}}`.
#[test]
fn ps_raw_format_is_dockers() {
    let node = unpack();
    let ours = |field: &str| -> Vec<String> {
        let r = run(&node.root(), &["ps", "-a", "--no-trunc", "--format", field]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        r.stdout_text().lines().map(str::to_string).collect()
    };
    let (status, size) = (ours("{{.Status}}"), ours("{{.Size}}"));
    let docker = lines_json(expected_text("ps-a.jsonl").as_bytes());
    assert_eq!(docker.len(), status.len());
    // docker's `pad s 1 0`: a space before s, nothing for an empty s.
    let pad = |s: &str| if s.is_empty() { String::new() } else { format!(" {s}") };
    let block = |i: usize, sized: bool| {
        let d = &docker[i];
        let f = |k: &str| d[k].as_str().unwrap().to_string();
        let mut b = format!(
            "container_id: {}\nimage: {}\ncommand: {}\ncreated_at: {}\nstate:{}\nstatus:{}\nnames: {}\nlabels:{}\nports:{}\n",
            f("ID"),
            f("Image"),
            f("Command"),
            f("CreatedAt"),
            pad(&f("State")),
            pad(&status[i]),
            f("Names"),
            pad(&f("Labels")),
            pad(&f("Ports")),
        );
        if sized {
            b += &format!("size: {}\n", size[i]);
        }
        b + "\n"
    };
    let r = run(&node.root(), &["ps", "-a", "--no-trunc", "--format", "raw"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let want: String = (0..docker.len()).map(|i| block(i, false)).collect();
    assert_eq!(r.stdout_text(), want);
    let r = run(&node.root(), &["ps", "-a", "--no-trunc", "-s", "--format", "raw"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let want: String = (0..docker.len()).map(|i| block(i, true)).collect();
    assert_eq!(r.stdout_text(), want);
    // With -q: `container_id: {{.ID}}`, cut as -q cuts it, and docker's warning that the
    // format given is otherwise ignored.
    let r = run(&node.root(), &["ps", "-a", "-q", "--format", "raw"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let want: String = docker
        .iter()
        .map(|d| format!("container_id: {}\n", &d["ID"].as_str().unwrap()[..12]))
        .collect();
    assert_eq!(r.stdout_text(), want);
    assert_eq!(
        r.stderr,
        "WARNING: Ignoring custom format, because both --format and --quiet are set.\n"
    );
    // docker/cli's `runPs` warns for any format given, `table` too; not for none, nor for an
    // empty one (which it takes for none).
    let ids: String = docker
        .iter()
        .map(|d| format!("{}\n", &d["ID"].as_str().unwrap()[..12]))
        .collect();
    for (args, warned) in [
        (&["--format", "table"][..], true),
        (&["--format", "json"][..], true),
        (&[][..], false),
        (&["--format", ""][..], false),
    ] {
        let r = run(&node.root(), &[&["ps", "-a", "-q"][..], args].concat());
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout_text(), ids, "{args:?}");
        assert_eq!(
            r.stderr.contains("Ignoring custom format"),
            warned,
            "{args:?}: {}",
            r.stderr
        );
    }
}

/// `container inspect -f` runs as the docker CLI runs it: on the body decoded into moby's
/// `container.InspectResponse` first, then, where that fails, on the raw body with
/// `missingkey=error`, which stays set for the references after it. Every expectation is what
/// docker/cli's inspector logic printed, run in Go 1.19.8 on these three bodies decoded into
/// moby v28.5.1's own API types.
#[test]
fn container_templates_run_on_the_typed_container_as_docker_runs_them() {
    let node = unpack();
    let names = ["dev-killed", "dev-running", "dev-exit3"];
    let inspect = |template: &str| {
        let mut args = vec!["container", "inspect", "-f", template];
        args.extend(names);
        run(&node.root(), &args)
    };
    // Ints compare and print as ints, not as json.Number.
    let r = inspect(
        "{{if eq .State.ExitCode 137}}killed{{else}}{{.State.ExitCode}}{{end}} \
         {{printf \"%T\" .State.ExitCode}} {{gt .State.Pid 0}}",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "killed int false\n0 int true\n3 int false\n");
    // Nil pointers, structs, and promoted fields of the embedded Resources.
    let r = inspect(
        "{{.State.Health}} {{.Config.StopTimeout}} {{.HostConfig.RestartPolicy}} \
         {{.HostConfig.Memory}} {{.HostConfig.Resources.NanoCPUs}}",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout_text(),
        "<nil> <nil> {unless-stopped 0} 0 0\n<nil> <nil> {always 0} 0 0\n<nil> <nil> {on-failure 2} 0 0\n"
    );
    // Go's field names on the typed pass; the JSON name only through the raw fallback.
    let r = inspect("{{.HostConfig.DNS}} {{json .State.ExitCode}} {{printf \"%T\" .HostConfig.DNS}}");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "[] 137 []string\n[] 0 []string\n[] 3 []string\n");
    let r = inspect("{{.HostConfig.Dns}} {{printf \"%T\" .HostConfig.Dns}}");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "[] []interface {}\n".repeat(3));
    // Named types keep their names, and compare as the strings and numbers they are.
    let r = inspect(
        "{{printf \"%T %T\" .HostConfig.NetworkMode .HostConfig.BlkioWeight}} \
         {{eq .HostConfig.RestartPolicy.Name \"always\"}}",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout_text(),
        "container.NetworkMode uint16 false\ncontainer.NetworkMode uint16 true\ncontainer.NetworkMode uint16 false\n"
    );
    // A named string is no `string` to `upper`: the typed pass fails, the raw one runs.
    let r = inspect("{{upper .HostConfig.NetworkMode}} {{printf \"%T\" .HostConfig.NetworkMode}}");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "NONE string\n".repeat(3));
    // No such field: the typed pass fails, and so does the raw one.
    // docker/cli's `TemplateInspector.Flush` writes one newline when nothing was printed.
    let r = inspect("{{.NoSuchField}}");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout_text(), "\n");
    let line = "template parsing error: template: :1:2: executing \"\" at <.NoSuchField>: \
                map has no entry for key \"NoSuchField\"\n";
    assert_eq!(r.stderr, line.repeat(3));
    // The running container falls back (no field NoSuch), which leaves missingkey=error for
    // the one after it, whose typed pass then fails on the missing label too.
    let r = inspect("{{.Config.Labels.nosuch}}{{if .State.Running}}{{.NoSuch}}{{end}}");
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout_text(), "<no value>\n");
    let line = "template parsing error: template: :1:9: executing \"\" at <.Config.Labels.nosuch>: \
                map has no entry for key \"nosuch\"\n";
    assert_eq!(r.stderr, line.repeat(2));
    // Methods of moby's named types, in a chain too, and named composites' own type names.
    let r = inspect(
        "{{(.HostConfig.NetworkMode).IsHost}}|{{.HostConfig.RestartPolicy.IsAlways}}|\
         {{printf \"%T %#v\" .Config.Cmd .HostConfig.ConsoleSize}}",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout_text(),
        "false|false|strslice.StrSlice [2]uint{0x0, 0x0}\nfalse|true|strslice.StrSlice [2]uint{0x0, 0x0}\n\
         false|false|strslice.StrSlice [2]uint{0x0, 0x0}\n"
    );
    // A chain's field fails where the evaluation of its operand left off (the raw pass: a
    // string has no methods), and a missing map entry in the operand is no value at all.
    let r = inspect("{{(.HostConfig.NetworkMode).Nope}}");
    assert_eq!(r.code, Some(1));
    let line = "template parsing error: template: :1:14: executing \"\" at <.HostConfig.NetworkMode>: \
                can't evaluate field Nope in type string\n";
    assert_eq!(r.stderr, line.repeat(3));
    let r = inspect("{{(index .NetworkSettings.Networks \"bridge\").Copy}}");
    assert_eq!(r.code, Some(1));
    let line = "template parsing error: template: :1:35: executing \"\" at <\"bridge\">: \
                nil data; no entry for key \"Copy\"\n";
    assert_eq!(r.stderr, line.repeat(3));
    // `eq` as Go's: arrays and structs of comparable fields compare; a struct holding a map
    // (LogConfig) has no `==`, on the typed pass or (as a map) on the raw one. Go's output
    // (moby v28.5.1's types, docker/cli's inspector).
    let r = inspect("{{eq .HostConfig.ConsoleSize .HostConfig.ConsoleSize}} {{eq .State .State}}");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout_text(), "true true\n".repeat(3));
    let r = inspect("{{eq .HostConfig.LogConfig .HostConfig.LogConfig}}");
    assert_eq!(r.code, Some(1));
    let line = "template parsing error: template: :1:2: executing \"\" at \
                <eq .HostConfig.LogConfig .HostConfig.LogConfig>: error calling eq: non-comparable type \
                map[Config:map[] Type:json-file]: map[string]interface {}\n";
    assert_eq!(r.stderr, line.repeat(3));
}

#[test]
fn containerd_record_equals_ctr_containers_info() {
    let node = unpack();
    let id = "942acddbaeacc6c9ebbc6528e8fc3379d490326a8114cd1ca6556323a8f44a66";
    let r = run(&node.root(), &["container", "inspect", "--containerd", "dev-running"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // ctr prints the object alone, indented by 4; ours is the same object in an array.
    let got = r.stdout_text();
    let inner: Vec<&str> = got.lines().collect();
    let inner = &inner[1..inner.len() - 1];
    let unindented: Vec<&str> = inner.iter().map(|l| l.strip_prefix("    ").unwrap_or(l)).collect();
    let want = expected_text(&format!("ctr/moby/containers/{id}.json"));
    assert_eq!(unindented.join("\n"), want.trim_end());
    // meta.db's schema 4 says 2.x; naming the release that wrote it prints the same bytes.
    let named = run(
        &node.root(),
        &["container", "inspect", "--containerd=2.1.9", "dev-running"],
    );
    assert_eq!(named.code, Some(0), "{}", named.stderr);
    assert_eq!(named.stdout, r.stdout);
    // ctr 1.6's object has no SandboxID and a `null` for no extensions.
    let six = run(
        &node.root(),
        &["container", "inspect", "--containerd=1.6", "dev-running"],
    );
    let six: Value = serde_json::from_slice(&six.stdout).unwrap();
    let mut want: Value = serde_json::from_str(&want).unwrap();
    want.as_object_mut().unwrap().remove("SandboxID").unwrap();
    assert_eq!(want["Extensions"], serde_json::json!({}));
    want["Extensions"] = Value::Null;
    assert_eq!(six[0], want);
    // A container whose task had exited has no record.
    let r = run(&node.root(), &["container", "inspect", "--containerd", "dev-killed"]);
    assert_eq!(r.code, Some(1));
}

#[test]
fn timeline_has_every_recorded_time() {
    let node = unpack();
    let r = run(&node.root(), &["timeline", "--format", "jsonl"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let events = lines_json(&r.stdout);
    // Timesketch's fields on every line, sorted by time.
    let mut last = String::new();
    for e in &events {
        for k in ["message", "datetime", "timestamp_desc"] {
            assert!(e[k].as_str().is_some_and(|s| !s.is_empty()), "{e}");
        }
        let t = e["datetime"].as_str().unwrap().to_string();
        // Same-length prefix compare is enough within one second's formatting; compare instants.
        assert!(instant(&last) <= instant(&t), "{last} then {t}");
        last = t;
    }
    let has = |desc: &str, id: &str, at: &str| {
        events
            .iter()
            .any(|e| e["timestamp_desc"] == desc && e["id"] == id && e["datetime"] == at)
    };
    // Every snapshot's times as `ctr snapshots info` printed them.
    let info: Value = serde_json::from_str(&expected_text("ctr/moby/snapshots-info.json")).unwrap();
    for (key, s) in info.as_object().unwrap() {
        let id = format!("overlayfs/{key}");
        assert!(
            has("Snapshot Created", &id, s["Created"].as_str().unwrap()),
            "{key} created"
        );
        if s["Updated"] != s["Created"] {
            assert!(
                has("Snapshot Updated", &id, s["Updated"].as_str().unwrap()),
                "{key} updated"
            );
        }
    }
    // The lease containerd's collection expired, at the expiry its label gives (the GC ground
    // truth's record of it).
    let details: Value = serde_json::from_str(&expected_text("gc-real-details.json")).unwrap();
    for lease in details["leases"].as_array().unwrap() {
        let labels = lease["labels"].as_str().unwrap();
        let expire = labels
            .split(',')
            .find_map(|kv| kv.strip_prefix("containerd.io/gc.expire="))
            .unwrap();
        assert!(
            events.iter().any(|e| e["timestamp_desc"] == "Lease Expires"
                && e["id"] == lease["id"]
                && e["namespace"] == lease["namespace"]
                && e["datetime"] == expire),
            "{lease}"
        );
    }
    // Every Docker container's created/started/finished as docker inspect printed them.
    for name in CONTAINERS {
        let i: Value = serde_json::from_str(&expected_text(&format!("containers/{name}/inspect.json"))).unwrap();
        let c = &i[0];
        let id = c["Id"].as_str().unwrap();
        assert!(has("Container Created", id, c["Created"].as_str().unwrap()), "{name}");
        for (desc, key) in [("Container Started", "StartedAt"), ("Container Finished", "FinishedAt")] {
            let t = c["State"][key].as_str().unwrap();
            let present = events.iter().any(|e| e["timestamp_desc"] == desc && e["id"] == id);
            if t.starts_with("0001-") {
                assert!(!present, "{name}: {desc} never happened");
            } else {
                assert!(has(desc, id, t), "{name}: {desc} {t}");
            }
        }
    }
}

/// A config.v2.json without `Created`: dockerd reads Go's zero time there, so the container
/// has no Created event, and nothing is said of it (exit 0), as `ps` accepts the file.
#[test]
fn timeline_takes_a_missing_created_as_the_zero_time() {
    let node = unpack();
    // The first container, in name order, that was started (it keeps a Started event).
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(node.docker().join("containers"))
        .expect("containers")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let read = |p: &Path| -> Option<Value> { serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok() };
    let (file, mut config) = dirs
        .iter()
        .map(|d| d.join("config.v2.json"))
        .find_map(|f| {
            let c = read(&f)?;
            let started = c["State"]["StartedAt"].as_str()?;
            (!started.starts_with("0001-")).then_some((f, c))
        })
        .expect("a started container");
    let id = config["ID"].as_str().expect("ID").to_string();
    config.as_object_mut().expect("object").remove("Created");
    std::fs::write(&file, config.to_string()).expect("write");
    let r = run(&node.root(), &["timeline", "--format", "jsonl"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stderr.contains("left out of the timeline"), "{}", r.stderr);
    let events = lines_json(&r.stdout);
    assert!(
        !events
            .iter()
            .any(|e| e["timestamp_desc"] == "Container Created" && e["id"] == id.as_str()),
        "{id}: a Created event from no time"
    );
    assert!(
        events.iter().any(|e| e["id"] == id.as_str()),
        "{id}: its other events stay"
    );
}

/// Nanoseconds of an RFC 3339 UTC time, for ordering ("" is the smallest).
fn instant(t: &str) -> (String, u64) {
    let Some((sec, frac)) = t.trim_end_matches('Z').split_once('.') else {
        return (t.trim_end_matches('Z').to_string(), 0);
    };
    let digits = format!("{frac:0<9}");
    (sec.to_string(), digits.parse().unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Hostile stores.

/// A Docker store in a temp dir: real containers of the node, then damaged ones beside them.
fn hostile_store(node: &Node) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("docker");
    let containers = store.join("containers");
    std::fs::create_dir_all(&containers).unwrap();
    let real = node.docker().join("containers");
    let template = real.join("e7168bb2c84540963774514213b677b5c559a2956f1b0c4070e88b412c67b82e");
    let config = std::fs::read_to_string(template.join("config.v2.json")).unwrap();
    let hostconfig = std::fs::read(template.join("hostconfig.json")).unwrap();
    let make = |id: &str, config: Option<&str>, hostconfig: Option<&[u8]>| {
        let d = containers.join(id);
        std::fs::create_dir(&d).unwrap();
        if let Some(c) = config {
            std::fs::write(
                d.join("config.v2.json"),
                c.replace("e7168bb2c84540963774514213b677b5c559a2956f1b0c4070e88b412c67b82e", id),
            )
            .unwrap();
        }
        if let Some(h) = hostconfig {
            std::fs::write(d.join("hostconfig.json"), h).unwrap();
        }
        d
    };
    let id = |c: char| c.to_string().repeat(64);
    // 1: intact.
    make(&id('1'), Some(&config), Some(&hostconfig));
    // 2: config.v2.json is not JSON.
    make(&id('2'), Some("{\"State\": {nope"), Some(&hostconfig));
    // 3: a 1 GB sparse config.v2.json.
    let d = make(&id('3'), None, Some(&hostconfig));
    std::fs::File::create(d.join("config.v2.json"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    // 4: a symlink as config.v2.json (to a valid one: still not followed).
    let d = make(&id('4'), None, Some(&hostconfig));
    std::os::unix::fs::symlink(
        real.join("a300da2266655cd7c431213e7e0511d5e09ee7174122e3590a112df142ca38f7/config.v2.json"),
        d.join("config.v2.json"),
    )
    .unwrap();
    // 5: a FIFO as config.v2.json (opening it for reading would block).
    let d = make(&id('5'), None, Some(&hostconfig));
    let c = std::ffi::CString::new(d.join("config.v2.json").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // 6: a name with control characters and a terminal escape; a hostconfig.json that is not
    // JSON.
    let evil = config.replace("\"Name\":\"/dev-killed\"", "\"Name\":\"/evil\\u001b[31mred\\nline\"");
    assert_ne!(evil, config);
    make(&id('6'), Some(&evil), Some(b"[not json"));
    // 7: a directory whose name is not an ID, with a control character in it.
    std::fs::create_dir(containers.join("junk\u{1b}[2J")).unwrap();
    (dir, store)
}

#[test]
fn hostile_docker_store_reports_each_bad_file_and_lists_the_rest() {
    let node = unpack();
    let (_keep, store) = hostile_store(&node);
    let store_arg = store.display().to_string();
    let r = run(
        &node.root(),
        &[
            "--docker-root",
            &store_arg,
            "ps",
            "-a",
            "--no-trunc",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let rows = lines_json(&r.stdout);
    let ids: BTreeSet<String> = rows
        .iter()
        .filter(|o| o["Source"] == "docker")
        .map(|o| o["ID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["1", "6"].iter().map(|c| c.repeat(64)).collect::<BTreeSet<_>>());
    // dev-running's containerd record has no Docker container over it in this store: it is
    // listed on its own, running at the seizure (its task bundle is on disk).
    let record = rows.iter().find(|o| o["Source"] == "containerd").unwrap();
    assert_eq!(
        record["ID"],
        "942acddbaeacc6c9ebbc6528e8fc3379d490326a8114cd1ca6556323a8f44a66"
    );
    assert_eq!(
        (record["State"].as_str(), record["Image"].as_str()),
        (Some("running"), Some("docker.io/lab/toolbox:1"))
    );
    let evil = rows
        .iter()
        .find(|o| o["ID"].as_str().unwrap().starts_with('6'))
        .unwrap();
    // Exact in JSON.
    assert_eq!(evil["Names"], "evil\u{1b}[31mred\nline");
    for (c, why) in [('2', "not JSON"), ('3', "more than"), ('4', "symlink"), ('5', "FIFO")] {
        let file = format!("{}/config.v2.json", c.to_string().repeat(64));
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&file))
            .unwrap_or_else(|| panic!("{file} not named: {}", r.stderr));
        assert!(line.contains(why), "{line}");
    }
    assert!(
        r.stderr
            .contains(&format!("{}/hostconfig.json: not JSON", "6".repeat(64))),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("junk\\x1b[2J"), "{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "raw escape on stderr: {}", r.stderr);
    // The table escapes the name.
    let r = run(&node.root(), &["--docker-root", &store_arg, "ps", "-a"]);
    assert_eq!(r.code, Some(3));
    let table = r.stdout_text();
    assert!(!table.contains('\u{1b}'), "{table}");
    assert!(table.contains("evil\\x1b[31mred\\nline"), "{table}");
    // The env variable does the same as the option.
    let all = [
        "--root".to_string(),
        node.root().display().to_string(),
        "ps".into(),
        "-aq".into(),
        "--no-trunc".into(),
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_coldctr"))
        .args(&all)
        .env("COLDCTR_DOCKER_ROOT", &store)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // Newest first; the two made from one config were created at the same instant: ID order.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "942acddbaeacc6c9ebbc6528e8fc3379d490326a8114cd1ca6556323a8f44a66\n{}\n{}\n",
            "1".repeat(64),
            "6".repeat(64)
        )
    );
    // Inspect of the damaged-hostconfig container still prints, HostConfig null, exit 3.
    let r = run(
        &node.root(),
        &["--docker-root", &store_arg, "container", "inspect", "666666"],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v[0]["HostConfig"], Value::Null);
    assert_eq!(v[0]["Name"], "/evil\u{1b}[31mred\nline");
}

// ---------------------------------------------------------------------------------------------
// Kubernetes CRI (`fixtures/cri-k8s.tar.gz`, made by tools/lab/crigen with containerd's own
// packages; `fixtures/expected/cri-k8s/README.md`).

fn unpack_cri() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(repo().join("fixtures/cri-k8s.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// `container inspect`'s one object as ctr prints it alone (indented by 4, a newline after
/// it), without our `CRI` member, and that member.
fn ctr_object(stdout: &[u8]) -> (String, Option<Value>) {
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.len() > 2 && lines[0] == "[" && lines[lines.len() - 1] == "]",
        "{text}"
    );
    let mut object: Vec<String> = lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.strip_prefix("    ").unwrap_or(l).to_string())
        .collect();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    let cri = parsed[0].get("CRI").cloned();
    if let Some(at) = object.iter().position(|l| l.starts_with("    \"CRI\": ")) {
        object.truncate(at);
        let last = object.pop().unwrap();
        object.push(last.strip_suffix(',').unwrap().to_string());
        object.push("}".into());
    }
    (object.join("\n") + "\n", cri)
}

/// `container inspect --containerd=VERSION` prints the object of that release's ctr: 1.6's
/// without SandboxID and with `"Extensions": null` for a record without extensions, 1.7.0's
/// and later with `"SandboxID": ""` and `{}`; without it the release is the store's: schema 3
/// (this store's) with container records none of which has 1.7's `sandboxid` key is 1.6, as
/// `mounts` takes it. A VERSION that is none is refused as `mounts` refuses it.
#[test]
fn container_inspect_prints_the_named_ctr_releases_object() {
    let root = unpack_cri();
    let inspect = |args: &[&str]| -> Value {
        let mut all = vec!["container", "inspect"];
        all.extend(args);
        all.push("plain-web");
        let r = run(root.path(), &all);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        let v: Value = serde_json::from_slice(&r.stdout).unwrap();
        v[0].clone()
    };
    let six = cri_expected("info/plain-web.json");
    assert!(six["Extensions"].is_null() && six.get("SandboxID").is_none(), "{six}");
    let mut later = six.clone();
    later["Extensions"] = serde_json::json!({});
    later["SandboxID"] = Value::String(String::new());
    for v in ["2.1", "2.1.9", "v2", "1.7", "1.7.0", "1.7.30"] {
        assert_eq!(inspect(&[&format!("--containerd={v}")]), later, "{v}");
    }
    for v in ["1.6", "1.6.20~ds1", "v1.5.0"] {
        assert_eq!(inspect(&[&format!("--containerd={v}")]), six, "{v}");
    }
    // Schema 3, and no record with a `sandboxid` key (1.6's packages wrote them): 1.6.
    assert_eq!(inspect(&[]), six);
    assert_eq!(inspect(&["--containerd"]), six);
    // Refused as mounts refuses it: exit 2, the same words.
    let said = r#""x" is no containerd release (1.6, 1.7.3, 2.1, ...)"#;
    let bad = run(root.path(), &["container", "inspect", "--containerd=x", "plain-web"]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains(said), "{}", bad.stderr);
    assert!(bad.stdout.is_empty());
    let mounts = run(root.path(), &["mounts", "plain-web", "--containerd", "x"]);
    assert_eq!(mounts.code, Some(2), "{}", mounts.stderr);
    assert!(mounts.stderr.contains(said), "{}", mounts.stderr);
    // Typos of a release are no release: 16 is not taken for 2.x (sweep 29.3).
    for typo in ["16", "17", "1", "1.8", "3.0"] {
        let bad = run(
            root.path(),
            &["container", "inspect", &format!("--containerd={typo}"), "plain-web"],
        );
        assert_eq!(bad.code, Some(2), "{typo}: {}", bad.stderr);
        let said = format!("\"{typo}\" is no containerd release");
        assert!(bad.stderr.contains(&said), "{}", bad.stderr);
    }
}

/// A containerd 1.6.20's records and what its own ctr printed for them
/// (`tests/data/ctr16-info`): byte for byte, a record without labels `"Labels": null` as
/// without extensions `"Extensions": null`, and `<&>` escaped as Go escapes it.
#[test]
fn containerd_16_records_equal_its_own_ctr_containers_info() {
    let data = repo().join("tests/data/ctr16-info");
    for id in ["bare", "labelled"] {
        let r = run(&data.join("root"), &["-n", "default", "container", "inspect", id]);
        assert_eq!(r.code, Some(0), "{id}: {}", r.stderr);
        let (ctr, cri) = ctr_object(&r.stdout);
        assert!(cri.is_none(), "{id}");
        let want = std::fs::read_to_string(data.join(format!("ctr-info-{id}.json"))).unwrap();
        assert_eq!(ctr, want, "{id}");
    }
    // Labels are null for every release (each client hands on the message's map).
    let r = run(
        &data.join("root"),
        &["-n", "default", "container", "inspect", "--containerd=1.7", "bare"],
    );
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v[0]["Labels"], Value::Null);
    assert_eq!(v[0]["SandboxID"], "");
}

fn cri_expected(name: &str) -> Value {
    let p = repo().join("fixtures/expected/cri-k8s").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

#[test]
fn cri_sandboxes_and_containers_agree_with_containerds_own_records() {
    let root = unpack_cri();
    let r = run(root.path(), &["ps", "-a", "--no-trunc", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let rows = lines_json(&r.stdout);
    let truth = cri_expected("truth.json");
    let truth = truth.as_array().unwrap();
    assert_eq!(rows.len(), truth.len());
    for t in truth {
        let id = t["id"].as_str().unwrap();
        let o = rows
            .iter()
            .find(|o| o["ID"] == id)
            .unwrap_or_else(|| panic!("{id} not listed"));
        assert_eq!(o["Namespace"], t["namespace"], "{id}");
        assert_eq!(o["Image"], t["image"], "{id}");
        assert_eq!(
            o["TaskAtSeizure"],
            t.get("taskBundle").cloned().unwrap_or(Value::Bool(false)),
            "{id}"
        );
        match t["kind"].as_str().unwrap() {
            "" => {
                // A plain containerd container: named by nerdctl's label, created as recorded.
                assert_eq!(o["Source"], "containerd");
                assert_eq!(o["Names"], "plain-web");
                assert_eq!(o["Created"], t["createdAt"]);
            }
            kind => {
                assert_eq!(o["Source"], "cri", "{id}");
                assert_eq!(o["CriKind"], kind, "{id}");
                assert_eq!(o["PodName"], t["pod"], "{id}");
                assert_eq!(o["PodNamespace"], t["podNamespace"], "{id}");
                assert_eq!(o["PodUID"], t["podUID"], "{id}");
                if kind == "sandbox" {
                    assert_eq!(o["Names"], t["pod"]);
                    // No status file for a sandbox: its task bundle says it was ready.
                    assert_eq!(o["State"], "running");
                    continue;
                }
                assert_eq!(o["Names"], t["container"], "{id}");
                // crictl's image ID: the CRI metadata's ImageRef.
                assert_eq!(o["ImageID"], t["imageRef"], "{id}");
                assert_eq!(o["State"], t["state"], "{id}");
                assert_eq!(o["Pid"], t["pid"], "{id}");
                assert_eq!(o["Created"], t["statusCreatedAt"], "{id}");
                let opt = |k: &str| match t[k].as_str() {
                    Some("") | None => Value::Null,
                    Some(s) => Value::String(s.into()),
                };
                assert_eq!(o["StartedAt"], opt("startedAt"), "{id}");
                assert_eq!(o["FinishedAt"], opt("finishedAt"), "{id}");
                if t["state"] == "exited" {
                    assert_eq!(o["ExitCode"], t["exitCode"], "{id}");
                    assert!(o["Status"].as_str().unwrap().starts_with("Exited (137) at "), "{o}");
                }
            }
        }
    }
    // Every record as ctr 1.6 containers info prints it (the store is 1.6's), byte for byte
    // once our CRI member is taken off: no SandboxID, and `"Extensions": null` for the
    // record without extensions. Schema 3 alone does not say 1.6; records without 1.7's
    // `sandboxid` key do.
    for t in truth {
        let id = t["id"].as_str().unwrap();
        let r = run(root.path(), &["container", "inspect", id]);
        assert_eq!(r.code, Some(0), "{id}: {}", r.stderr);
        let (ctr, cri) = ctr_object(&r.stdout);
        assert_eq!(cri.is_some(), t["kind"] != "", "{id}");
        let want = std::fs::read_to_string(repo().join(format!("fixtures/expected/cri-k8s/info/{id}.json"))).unwrap();
        assert_eq!(ctr, want, "{id}");
        if let Some(c) = cri {
            assert_eq!(c["Kind"], t["kind"]);
            assert_eq!(c["Metadata"]["Version"], "v1");
            if t["kind"] == "container" {
                assert_eq!(c["Status"]["Version"], "v1");
                assert_eq!(c["State"], t["state"]);
            }
        }
    }
    // A CRI container by POD/NAME; the timeline has its status file's start.
    let r = run(root.path(), &["container", "inspect", "web-0/nginx"]);
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        v[0]["ID"],
        "a100000000000000000000000000000000000000000000000000000000000001"
    );
    let r = run(root.path(), &["timeline", "--format", "jsonl"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let events = lines_json(&r.stdout);
    let nginx = truth.iter().find(|t| t["container"] == "nginx").unwrap();
    assert!(events.iter().any(|e| e["timestamp_desc"] == "Container Started"
        && e["artifact"] == "cri container"
        && e["datetime"] == nginx["startedAt"]));
    // Without -a: what ran at the seizure (the sandbox and nginx).
    let r = run(root.path(), &["ps", "-q"]);
    assert_eq!(r.stdout_text(), "5b1c0f3e9a7d\na10000000000\n");
}

/// A CRI status file whose fields containerd's decoder refuses (a string or float time, an
/// integer past its Go type, a `Version` other than v1) is damage, each field named with its
/// value, exit 3; the container is still listed, with what the file has that fits. These were
/// taken silently: exit 0, an exit code of 2^63-1 printed, a string time read as no time.
#[test]
fn mistyped_cri_status_fields_are_named_as_damage() {
    let id = "a100000000000000000000000000000000000000000000000000000000000001";
    for (status, said, check) in [
        (
            r#"{"Version":"v1","Pid":4242,"CreatedAt":"x","StartedAt":1795161603123456789,"FinishedAt":0,"ExitCode":0}"#,
            vec![r#"CreatedAt is "x", not an int64"#],
            ("State", Value::from("running")),
        ),
        (
            r#"{"Version":"v1","Pid":4242,"CreatedAt":1.5,"StartedAt":1795161603123456789,"FinishedAt":0,"ExitCode":0}"#,
            vec!["CreatedAt is 1.5, not an int64"],
            ("Pid", Value::from(4242)),
        ),
        (
            r#"{"Version":"v1","Pid":4242,"CreatedAt":18446744073709551615,"StartedAt":1795161603123456789,"FinishedAt":0,"ExitCode":0}"#,
            vec!["CreatedAt is 18446744073709551615, not an int64"],
            ("State", Value::from("running")),
        ),
        (
            r#"{"Version":"v1","Pid":4242,"CreatedAt":1795161602123456789,"StartedAt":1795161603123456789,"FinishedAt":1795161604123456789,"ExitCode":9223372036854775807}"#,
            vec!["ExitCode is 9223372036854775807, not an int32"],
            ("ExitCode", Value::Null),
        ),
        (
            r#"{"Version":"v2","Pid":-5,"CreatedAt":1795161602123456789,"StartedAt":0,"FinishedAt":0,"ExitCode":0}"#,
            vec!["Pid is -5, not a uint32", r#"Version is "v2", not "v1""#],
            ("Pid", Value::Null),
        ),
    ] {
        let root = unpack_cri();
        let path = root
            .path()
            .join("io.containerd.grpc.v1.cri/containers")
            .join(id)
            .join("status");
        assert!(path.is_file(), "the fixture has {}", path.display());
        std::fs::write(&path, status).unwrap();
        for args in [
            &["ps", "-a", "--format", "json"][..],
            &["timeline"],
            &["container", "inspect", id],
        ] {
            let r = run(root.path(), args);
            assert_eq!(r.code, Some(3), "{status} {args:?}: {}", r.stderr);
            for w in &said {
                let line = format!("{}: {w}; containerd does not load such a file", path.display());
                assert!(r.stderr.contains(&line), "{args:?}: no {line:?} in {}", r.stderr);
            }
        }
        let r = run(root.path(), &["ps", "-a", "--no-trunc", "--format", "json"]);
        let rows = lines_json(&r.stdout);
        let row = rows
            .iter()
            .find(|o| o["ID"] == id)
            .unwrap_or_else(|| panic!("{status}: still listed"));
        assert_eq!(row[check.0], check.1, "{status}: {row}");
        if row["State"] == "exited" {
            assert!(row["Status"].as_str().unwrap().starts_with("Exited (?) at "), "{row}");
        }
    }
}

/// containerd decodes a CRI status file with Go's encoding/json: a key names its field in any
/// case ('ſ' and the Kelvin sign fold too), and a field named twice keeps the last value. Go
/// 1.19.8, decoding these bytes into containerd's versionedStatus, read Version v1, Pid 4242,
/// ExitCode 137 and the three times, with no error.
#[test]
fn cri_status_keys_are_read_in_any_case_as_containerd_reads_them() {
    let id = "a100000000000000000000000000000000000000000000000000000000000001";
    let root = unpack_cri();
    let path = root
        .path()
        .join("io.containerd.grpc.v1.cri/containers")
        .join(id)
        .join("status");
    std::fs::write(
        &path,
        r#"{"version":"v1","Pid":1,"pid":4242,"CREATEDAT":1795161602123456789,"startedat":1795161603123456789,"finiſhedat":1795161604123456789,"exitcode":137,"reason":"OOMKilled"}"#,
    )
    .unwrap();
    let r = run(root.path(), &["ps", "-a", "--no-trunc", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let rows = lines_json(&r.stdout);
    let row = rows.iter().find(|o| o["ID"] == id).unwrap();
    assert_eq!(row["State"], "exited", "{row}");
    assert_eq!(row["ExitCode"], 137, "{row}");
    assert_eq!(row["Pid"], 4242, "{row}");
}

/// A graph driver (overlay2) node, built at run time in the layout dockerd 28 writes without
/// the containerd image store: names come from Docker's reference store and GraphDriver.Data
/// from its layer store. (Not checked against a live dockerd: no such capture here; the
/// layout is moby's `reference/store.go` and `daemon/graphdriver/overlay2`.)
/// A graph driver (overlay2) node: the node's dev-fschanges alone in a Docker root of its
/// own, on `overlay2`, with a reference store naming its image `lab/busybox:1.38` and a layer
/// store whose rw layer (`mount`) has the init layer and one image layer below it.
struct GraphNode {
    node: Node,
    /// Holds `docker`.
    _dir: tempfile::TempDir,
    docker: PathBuf,
    id: &'static str,
    image_id: &'static str,
    mount: String,
}

impl GraphNode {
    fn new() -> GraphNode {
        let node = unpack();
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker");
        let id = "e7168bb2c84540963774514213b677b5c559a2956f1b0c4070e88b412c67b82e";
        let image_id = "sha256:bb11e37152b3006a60f612cd22df5ecee68ada747e33db7f88560247224a1d7d";
        let src = node.docker().join("containers").join(id);
        let cdir = docker.join("containers").join(id);
        std::fs::create_dir_all(&cdir).unwrap();
        let config = std::fs::read_to_string(src.join("config.v2.json"))
            .unwrap()
            .replace("\"Driver\":\"overlayfs\"", "\"Driver\":\"overlay2\"");
        assert!(config.contains("\"Driver\":\"overlay2\""));
        std::fs::write(cdir.join("config.v2.json"), config).unwrap();
        std::fs::copy(src.join("hostconfig.json"), cdir.join("hostconfig.json")).unwrap();
        std::fs::create_dir_all(docker.join("image/overlay2/layerdb/mounts").join(id)).unwrap();
        std::fs::write(
            docker.join("image/overlay2/repositories.json"),
            format!(r#"{{"Repositories":{{"lab/busybox":{{"lab/busybox:1.38":"{image_id}"}}}}}}"#),
        )
        .unwrap();
        let mount = "4d".repeat(32);
        std::fs::write(
            docker.join("image/overlay2/layerdb/mounts").join(id).join("mount-id"),
            &mount,
        )
        .unwrap();
        std::fs::create_dir_all(docker.join("overlay2/l")).unwrap();
        std::fs::create_dir_all(docker.join("overlay2").join(&mount)).unwrap();
        std::fs::write(docker.join("overlay2").join(&mount).join("lower"), "l/INIT:l/BASE").unwrap();
        std::os::unix::fs::symlink(format!("../{mount}-init/diff"), docker.join("overlay2/l/INIT")).unwrap();
        std::os::unix::fs::symlink(format!("../{}/diff", "ba".repeat(32)), docker.join("overlay2/l/BASE")).unwrap();
        GraphNode {
            node,
            _dir: dir,
            docker,
            id,
            image_id,
            mount,
        }
    }

    /// `coldctr --docker-root <its docker root> ARGS`.
    fn run(&self, args: &[&str]) -> bolt_support::Run {
        let docker = self.docker.display().to_string();
        let mut all = vec!["--docker-root", &docker];
        all.extend(args);
        run(&self.node.root(), &all)
    }

    /// `GraphDriver` of its container, as `container inspect` prints it, and the run.
    fn graph_driver(&self) -> (Value, bolt_support::Run) {
        let r = self.run(&["container", "inspect", "-f", "{{json .GraphDriver}}", self.id]);
        let g = serde_json::from_slice(&r.stdout).unwrap_or(Value::Null);
        (g, r)
    }

    /// The rw layer's `lower` file.
    fn lower(&self) -> PathBuf {
        self.docker.join("overlay2").join(&self.mount).join("lower")
    }
}

#[test]
fn graph_driver_node_names_images_and_layer_dirs_from_dockers_own_stores() {
    let g = GraphNode::new();
    let (node, docker, id, image_id, mount) = (&g.node, &g.docker, g.id, g.image_id, g.mount.as_str());
    let dir = g._dir.path();
    let docker_arg = docker.display().to_string();
    let r = run(
        &node.root(),
        &[
            "--docker-root",
            &docker_arg,
            "ps",
            "-a",
            "--format",
            "json",
            "-f",
            "source=docker",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let rows = lines_json(&r.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["Image"], "lab/busybox:1.38");
    let r = run(
        &node.root(),
        &[
            "--docker-root",
            &docker_arg,
            "container",
            "inspect",
            "-f",
            "{{json .GraphDriver}}",
            id,
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let g: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(g["Name"], "overlay2");
    let home = "/var/lib/docker/overlay2";
    assert_eq!(g["Data"]["UpperDir"], format!("{home}/{mount}/diff"));
    assert_eq!(
        g["Data"]["LowerDir"],
        format!("{home}/{mount}-init/diff:{home}/{}/diff", "ba".repeat(32))
    );
    // Re-tagged away: the reference store maps the name to another image, ps shows the ID.
    std::fs::write(
        docker.join("image/overlay2/repositories.json"),
        r#"{"Repositories":{"lab/busybox":{"lab/busybox:1.38":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}}}"#,
    )
    .unwrap();
    let r = run(
        &node.root(),
        &[
            "--docker-root",
            &docker_arg,
            "ps",
            "-a",
            "--no-trunc",
            "--format",
            "json",
            "-f",
            "source=docker",
        ],
    );
    assert_eq!(lines_json(&r.stdout)[0]["Image"], image_id);

    // The layer store moved out of the root and linked back (`image/overlay2/layerdb` a
    // symlink): its mount-id is not read through the link, and the link is named.
    let layerdb = docker.join("image/overlay2/layerdb");
    let outside = dir.join("layerdb-outside");
    std::fs::rename(&layerdb, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, &layerdb).unwrap();
    let r = run(
        &node.root(),
        &[
            "--docker-root",
            &docker_arg,
            "container",
            "inspect",
            "-f",
            "{{json .GraphDriver}}",
            id,
        ],
    );
    assert!(r.stderr.contains("layerdb: a symlink, not followed"), "{}", r.stderr);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(!stdout.contains(mount), "read through the link: {stdout}");
}

/// A `repositories.json` of a shape Go does not decode into moby's reference store: dockerd's
/// `NewReferenceStore` fails and it does not start. It was taken for a store without names:
/// IMAGE the image ID, exit 0, nothing said. Now said, naming the file and the value, exit 3;
/// IMAGE is still the ID (no name is read from a store dockerd does not load).
#[test]
fn a_repositories_json_go_does_not_decode_is_damage() {
    let g = GraphNode::new();
    let file = g.docker.join("image/overlay2/repositories.json");
    let shown = file.display().to_string();
    for (text, said) in [
        (r#"{"Repositories":[]}"#, "Repositories is [], not"),
        ("[]", "the document is [], not an object"),
        ("null", "null, not an object"),
        (
            r#"{"Repositories":{"lab/busybox":{"lab/busybox:1.38":5}}}"#,
            "of type digest.Digest",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let r = g.run(&["ps", "-a", "--no-trunc", "--format", "json", "-f", "source=docker"]);
        assert_eq!(r.code, Some(3), "{text}: {}", r.stderr);
        let line = r
            .stderr
            .lines()
            .find(|l| l.starts_with(&format!("coldctr: {shown}: ")))
            .unwrap_or_else(|| panic!("{text}: file not named: {}", r.stderr));
        assert!(
            line.contains(said) && line.contains("dockerd does not load"),
            "{text}: {line}"
        );
        assert_eq!(lines_json(&r.stdout)[0]["Image"], g.image_id, "{text}");
    }
    // Go's decoder: a key in another case is the field; an image ID null is "" (no name).
    std::fs::write(
        &file,
        format!(
            r#"{{"repositories":{{"lab/busybox":{{"lab/busybox:1.38":"{}"}}}}}}"#,
            g.image_id
        ),
    )
    .unwrap();
    let r = g.run(&["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(lines_json(&r.stdout)[0]["Image"], "lab/busybox:1.38");
    std::fs::write(
        &file,
        r#"{"Repositories":{"lab/busybox":{"lab/busybox:1.38":null}},"Other":1}"#,
    )
    .unwrap();
    let r = g.run(&["ps", "-a", "--no-trunc", "--format", "json", "-f", "source=docker"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(lines_json(&r.stdout)[0]["Image"], g.image_id);
}

/// A `mount-id` that is not UTF-8 names no layer dir (dockerd's `isValidID` refuses it and
/// loads no rw layer), as `../../etc` names none: said the same way, exit 3, Data null. It
/// was dropped without a word, exit 0.
#[test]
fn a_mount_id_not_utf8_is_said_as_any_bad_mount_id() {
    let g = GraphNode::new();
    let file = g
        .docker
        .join("image/overlay2/layerdb/mounts")
        .join(g.id)
        .join("mount-id");
    let said = format!("coldctr: {}: not a layer directory name", file.display());
    for bytes in [&b"\xff\xfe"[..], b"../../etc"] {
        std::fs::write(&file, bytes).unwrap();
        let (data, r) = g.graph_driver();
        assert_eq!(r.code, Some(3), "{bytes:?}: {}", r.stderr);
        assert!(r.stderr.lines().any(|l| l == said), "{bytes:?}: {}", r.stderr);
        assert_eq!(data["Data"], Value::Null, "{bytes:?}");
        assert_eq!(data["Name"], "overlay2", "{bytes:?}");
    }
}

/// The overlay2 layer store disagreeing with itself, where dockerd's driver fails on it
/// (`GetMetadata`, `getLowerDirs`) or its layer store loads no rw layer (`loadMount`): each
/// said, naming the file, exit 3. They were printed as if whole (dirs of a layer dir that is
/// not there, LowerDir dropped, Data null), exit 0, nothing said. A layer with no `lower`
/// file (the lowest: moby writes none) is no damage, nor a dead container's missing layer
/// (dockerd's inspect prints Data null for it and says nothing).
#[test]
fn an_overlay2_layer_store_that_disagrees_with_itself_is_damage() {
    let g = GraphNode::new();
    let mount_file = g
        .docker
        .join("image/overlay2/layerdb/mounts")
        .join(g.id)
        .join("mount-id");
    let said = |r: &bolt_support::Run, what: &str| {
        assert_eq!(r.code, Some(3), "{what}: {}", r.stderr);
        assert!(r.stderr.contains(what), "{what}: {}", r.stderr);
    };
    // mount-id naming a layer dir that is not there.
    let gone = "de".repeat(32);
    std::fs::write(&mount_file, &gone).unwrap();
    let (data, r) = g.graph_driver();
    said(
        &r,
        &format!(
            "{}: not there, but {} names it",
            g.docker.join("overlay2").join(&gone).display(),
            mount_file.display()
        ),
    );
    assert_eq!(data["Data"], Value::Null);
    std::fs::write(&mount_file, &g.mount).unwrap();
    // An empty lower file, an empty entry in one.
    std::fs::write(g.lower(), "").unwrap();
    let (data, r) = g.graph_driver();
    said(&r, &format!("{}: empty, so it names no layer", g.lower().display()));
    assert_eq!(
        data["Data"]["UpperDir"],
        format!("/var/lib/docker/overlay2/{}/diff", g.mount)
    );
    assert_eq!(data["Data"]["LowerDir"], Value::Null);
    std::fs::write(g.lower(), "l/INIT::l/BASE").unwrap();
    let (_, r) = g.graph_driver();
    said(
        &r,
        &format!("{}: lower \"\" does not name a layer", g.lower().display()),
    );
    // No lower file: the lowest layer's way, no damage.
    std::fs::remove_file(g.lower()).unwrap();
    let (data, r) = g.graph_driver();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(data["Data"]["LowerDir"], Value::Null);
    assert_eq!(
        data["Data"]["WorkDir"],
        format!("/var/lib/docker/overlay2/{}/work", g.mount)
    );
    // No mount-id: the layer store has no rw layer for the container.
    std::fs::remove_file(&mount_file).unwrap();
    let (data, r) = g.graph_driver();
    said(&r, &format!("{}: not there;", mount_file.display()));
    assert_eq!(data["Data"], Value::Null);
    let r = g.run(&["ps", "-a", "-q"]);
    said(&r, &format!("{}: not there;", mount_file.display()));
    // ... but a dead container's layer may be gone.
    let config = g.docker.join("containers").join(g.id).join("config.v2.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let dead = text.replacen(r#""Dead":false"#, r#""Dead":true"#, 1);
    assert_ne!(text, dead);
    std::fs::write(&config, dead).unwrap();
    let (data, r) = g.graph_driver();
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(data["Data"], Value::Null);
}

/// Lower chains overlay2 never makes: a `lower` naming the layer itself (its UpperDir one of
/// its LowerDirs), or more lower layers than the driver's `maxDepth` (128). Printed without
/// a word, exit 0, the second as a line of every entry; now said (once for the count, which
/// is not resolved nor printed), exit 3. 128 is still a chain.
#[test]
fn impossible_overlay2_lower_chains_are_said_and_bounded() {
    let g = GraphNode::new();
    std::os::unix::fs::symlink(format!("../{}/diff", g.mount), g.docker.join("overlay2/l/SELF")).unwrap();
    std::fs::write(g.lower(), "l/INIT:l/SELF").unwrap();
    let (data, r) = g.graph_driver();
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: lower \"l/SELF\" names the layer itself ({})",
            g.lower().display(),
            g.mount
        )),
        "{}",
        r.stderr
    );
    let upper = data["Data"]["UpperDir"].as_str().unwrap();
    assert!(
        data["Data"]["LowerDir"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{upper}"))
    );
    for (count, bad) in [(128, false), (129, true), (10_000, true)] {
        std::fs::write(g.lower(), vec!["l/BASE"; count].join(":")).unwrap();
        let (data, r) = g.graph_driver();
        if bad {
            assert_eq!(r.code, Some(3), "{count}: {}", r.stderr);
            let said = format!(
                "coldctr: {}: {count} lower layers, more than overlay2 chains (128, its maxDepth); LowerDir not printed",
                g.lower().display()
            );
            assert_eq!(r.stderr.lines().collect::<Vec<_>>(), [said.as_str()], "{count}");
            assert_eq!(data["Data"]["LowerDir"], Value::Null, "{count}");
            assert!(r.stdout.len() < 1000, "{count}: {} bytes", r.stdout.len());
        } else {
            assert_eq!(r.code, Some(0), "{count}: {}", r.stderr);
            assert_eq!(data["Data"]["LowerDir"].as_str().unwrap().split(':').count(), count);
        }
    }
}

/// The lab's record of every container's state as on disk (`truth.json`: moby's
/// `StateString()` of `config.v2.json`, which the README checks against the final live
/// inspect) against `ps`'s own fields.
#[test]
fn ps_state_fields_equal_the_on_disk_truth() {
    let node = unpack();
    let r = run(&node.root(), &["ps", "-a", "--no-trunc", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let rows = lines_json(&r.stdout);
    let truth: Value = serde_json::from_str(&expected_text("truth.json")).unwrap();
    let truth = truth.as_array().unwrap();
    assert_eq!(truth.len(), rows.len());
    let time = |t: &Value| match t.as_str() {
        Some(s) if !s.starts_with("0001-") => Value::String(s.into()),
        _ => Value::Null,
    };
    for t in truth {
        let name = t["name"].as_str().unwrap();
        let o = rows
            .iter()
            .find(|o| o["ID"] == t["id"])
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(o["Names"], t["name"]);
        assert_eq!(o["State"], t["status"], "{name}");
        assert_eq!(o["ExitCode"], t["exit_code"], "{name}");
        assert_eq!(o["OOMKilled"], t["oom_killed"], "{name}");
        assert_eq!(o["Pid"], t["pid_on_disk"], "{name}");
        assert_eq!(o["StartedAt"], time(&t["started_at"]), "{name}");
        assert_eq!(o["FinishedAt"], time(&t["finished_at"]), "{name}");
        assert_eq!(o["RestartCount"], t["restart_count"], "{name}");
        let policy = &t["restart_policy"];
        let want = match (
            policy["Name"].as_str().unwrap(),
            policy["MaximumRetryCount"].as_i64().unwrap(),
        ) {
            ("on-failure", n) if n > 0 => format!("on-failure:{n}"),
            ("", _) => "no".to_string(),
            (p, _) => p.to_string(),
        };
        assert_eq!(o["RestartPolicy"], want, "{name}");
        assert_eq!(o["ImageRef"], t["image_ref"], "{name}");
        assert_eq!(o["ImageID"], t["image_id"], "{name}");
    }
}

/// `var/lib/docker` a symlink beside the containerd root (`-> /data/docker` on the seized
/// disk would be the examiner's own host once mounted): not taken as the node's Docker root,
/// so Docker's containers are not listed from wherever it leads; the link is named as damage
/// (exit 3) by `ps`, `timeline` and `container inspect` as by `diff`. They said "no Docker
/// data root was found" and exited 0 (inspect: 1, "No such container").
#[test]
fn a_symlinked_docker_root_beside_containerd_is_not_followed() {
    let node = unpack_with_snapshots();
    let r = run(&node.root(), &["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!lines_json(&r.stdout).is_empty(), "the node's Docker containers");
    let id = id_of(&node, "dev-running");
    let moved = node.dir.path().join("elsewhere");
    std::fs::rename(node.docker(), &moved).unwrap();
    std::os::unix::fs::symlink(&moved, node.docker()).unwrap();
    let r = run(&node.root(), &["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert!(
        lines_json(&r.stdout).is_empty(),
        "listed through the link: {:?}",
        r.stdout
    );
    let named = format!("{}: a symlink, not followed", node.docker().display());
    every_docker_reader_names_the_link(&node, &named);
    // The snapshot commands say why a Docker container is not found, with the failure: by
    // name, the link not followed; by ID, that containerd's record of it names no snapshot
    // (it said "its snapshot moby/ () is not recorded").
    let r = run(&node.root(), &["mounts", "dev-running"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("a symlink, not followed"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no snapshot key, container ID, name or ID prefix dev-running"),
        "{}",
        r.stderr
    );
    let r = run(&node.root(), &["mounts", &id]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("a symlink, not followed"), "{}", r.stderr);
    let said = format!("container {id}: its containerd record in namespace moby names no snapshot");
    assert!(r.stderr.contains(&said), "{}", r.stderr);
}

/// `ps -a`, `timeline`, `container inspect` and `diff` of `dev-running` each exit 3 naming
/// the link (`named`), never saying there is no Docker root.
fn every_docker_reader_names_the_link(node: &Node, named: &str) {
    for args in [
        &["ps", "-a"][..],
        &["timeline"],
        &["container", "inspect", "dev-running"],
        &["diff", "dev-running"],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(named), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("no Docker data root"), "{args:?}: {}", r.stderr);
    }
}

/// `var/lib/docker/containers` moved out and linked back: the Docker root is still found, and
/// the link is named as damage (exit 3) by `ps`, `timeline` and `container inspect`, as by
/// `diff`; no container is listed through it. They said "no Docker data root was found" and
/// exited 0.
#[test]
fn a_symlinked_docker_containers_dir_is_named_not_followed() {
    let node = unpack_with_snapshots();
    let containers = node.docker().join("containers");
    let moved = node.dir.path().join("elsewhere");
    std::fs::rename(&containers, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &containers).unwrap();
    let named = format!("{}: a symlink, not followed", containers.display());
    every_docker_reader_names_the_link(&node, &named);
    let r = run(&node.root(), &["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert!(lines_json(&r.stdout).is_empty(), "listed through the link");
}

/// config.v2.json files whose JSON trees take many times their bytes (a `0,` is 2 bytes of
/// text and 32 or more of memory): `ps` and `timeline` kept every container's tree, ~17x the
/// files, so the 16 MiB a file and 512 MiB in all allowed about 9 GB. Now a file whose tree
/// could take more than 64 MiB is named and not parsed, and past 1 GiB of trees kept the
/// rest are named and not read; all within a `ulimit -v` of 2.6 GB, where the old code aborted
/// (the six huge files alone are some 2.4 GB as trees).
#[test]
fn container_files_that_take_gigabytes_as_trees_are_named_within_bounded_memory() {
    let node = unpack();
    let containers = node.docker().join("containers");
    let id = id_of(&node, "dev-oldapp");
    let text = std::fs::read_to_string(containers.join(&id).join("config.v2.json")).unwrap();
    let text = text.trim_end().strip_suffix('}').expect("a JSON object");
    let old_name = r#""Name":"/dev-oldapp""#;
    assert!(text.contains(old_name));
    // IDs after the fixture's, so that its containers are read (and kept) first.
    let make = |n: usize, name: &str, values: usize| {
        let cid = format!("ff{n:062x}");
        let dir = containers.join(&cid);
        std::fs::create_dir(&dir).unwrap();
        let body = text
            .replace(&id, &cid)
            .replace(old_name, &format!(r#""Name":"/{name}""#));
        let body = format!("{body},\"Junk\":[{}0]}}", "0,".repeat(values - 1));
        std::fs::write(dir.join("config.v2.json"), body).unwrap();
        std::fs::copy(
            containers.join(&id).join("hostconfig.json"),
            dir.join("hostconfig.json"),
        )
        .unwrap();
        dir
    };
    // Just under 16 MiB, 8 million values each: refused unparsed.
    let huge: Vec<PathBuf> = (0..6).map(|i| make(i, &format!("huge{i}"), 8_000_000)).collect();
    // 300,000 values (600 kB, 10 MB or more as a tree) each: under the cap alone, past the
    // 1 GiB budget together.
    let many: Vec<PathBuf> = (100..230).map(|i| make(i, &format!("many{i}"), 300_000)).collect();
    for args in ["ps -a --format json", "timeline --format jsonl"] {
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v 2600000; exec \"$0\" --root \"$1\" {args}"))
            .arg(env!("CARGO_BIN_EXE_coldctr"))
            .arg(node.root())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{args}: {}", &err[..err.len().min(2000)]);
        for dir in &huge {
            let said = format!("{}: ", dir.join("config.v2.json").display());
            let line = err
                .lines()
                .find(|l| l.contains(&said))
                .unwrap_or_else(|| panic!("{args}: {said} not named"));
            assert!(
                line.contains("JSON values, which could take") && line.ends_with("; not read"),
                "{line}"
            );
        }
        let refused = many
            .iter()
            .filter(|d| {
                err.contains(&format!(
                    "{}: not read, its config.v2.json and hostconfig.json would take",
                    d.display()
                ))
            })
            .count();
        assert!(
            refused > 0 && refused < many.len(),
            "{args}: {refused} of {} refused",
            many.len()
        );
        let out = String::from_utf8_lossy(&o.stdout);
        for name in CONTAINERS {
            assert!(out.contains(name), "{args}: {name} listed");
        }
        assert!(!out.contains("huge"), "{args}");
        let listed = (100..230).filter(|i| out.contains(&format!("many{i}"))).count();
        assert_eq!(listed, many.len() - refused, "{args}");
    }
}

/// The Docker container directories holding `file`, sorted, with the second one's `file`
/// replaced by a hard link to the first one's; and that second file.
fn link_second_to_first(node: &Node, file: &str) -> (Vec<PathBuf>, PathBuf) {
    let containers = node.docker().join("containers");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&containers)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join(file).is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 2, "two Docker containers with a {file} in the fixture");
    let (first, second) = (dirs[0].join(file), dirs[1].join(file));
    std::fs::remove_file(&second).unwrap();
    std::fs::hard_link(&first, &second).unwrap();
    (dirs, second)
}

/// One container's `config.v2.json` hard-linked over another's: read once, the second named
/// as a hard link of the first (a 16 MiB config linked into many directories was parsed and
/// kept once per link: megabytes on disk, gigabytes in memory).
#[test]
fn a_hard_linked_config_is_read_once() {
    let node = unpack();
    let (dirs, _) = link_second_to_first(&node, "config.v2.json");
    let r = run(&node.root(), &["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("(a hard link); not read again"), "{}", r.stderr);
    assert_eq!(lines_json(&r.stdout).len(), dirs.len() - 1, "the others still listed");
}

/// A copy of one container's `config.v2.json` in another's directory (its `ID` not that
/// directory's: damage, exit 3, said) lends that directory no name: dockerd does not load it,
/// so `dev-killed` is still the container whose own file names it, for `container inspect`
/// and the layer commands alike; the copy's directory is found by its ID alone. The copy
/// sorted first and answered: `diff dev-killed` printed dev-exit3's changes.
#[test]
fn a_config_copied_into_another_directory_lends_it_no_name() {
    let node = unpack_with_snapshots();
    let killed = id_of(&node, "dev-killed");
    let exit3 = id_of(&node, "dev-exit3");
    assert!(exit3 < killed, "the copy sorts first, as on the node");
    let containers = node.docker().join("containers");
    let copy = containers.join(&exit3).join("config.v2.json");
    std::fs::copy(containers.join(&killed).join("config.v2.json"), &copy).unwrap();
    let said = format!("{}: ID \"{killed}\" is not its directory's name", copy.display());
    let r = run(&node.root(), &["container", "inspect", "-f", "{{.Id}}", "dev-killed"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains(&said), "{}", r.stderr);
    assert_eq!(r.stdout_text().trim(), killed);
    let by_id = run(&node.root(), &["mounts", &killed]);
    assert_eq!(by_id.code, Some(3), "{}", by_id.stderr);
    assert!(!by_id.stdout.is_empty(), "{}", by_id.stderr);
    let r = run(&node.root(), &["mounts", "dev-killed"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains(&said), "{}", r.stderr);
    assert_eq!(r.stdout_text(), by_id.stdout_text(), "dev-killed's own layers");
    let r = run(&node.root(), &["mounts", &exit3]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(!r.stdout.is_empty() && r.stdout != by_id.stdout, "{}", r.stderr);

    // The copy a hard link of dev-killed's own file: read where it was met first, then once
    // more in the directory its ID names, so that dev-killed is still listed and found (it
    // was the one "not read again", and the name answered with dev-exit3's directory).
    std::fs::remove_file(&copy).unwrap();
    std::fs::hard_link(containers.join(&killed).join("config.v2.json"), &copy).unwrap();
    let r = run(&node.root(), &["ps", "-a", "-q", "--no-trunc", "-f", "name=dev-killed"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains(&said), "{}", r.stderr);
    assert!(r.stdout_text().lines().any(|l| l == killed), "{}", r.stdout_text());
    let r = run(&node.root(), &["container", "inspect", "-f", "{{.Id}}", "dev-killed"]);
    assert_eq!(
        (r.code, r.stdout_text().trim()),
        (Some(3), killed.as_str()),
        "{}",
        r.stderr
    );
    let r = run(&node.root(), &["mounts", "dev-killed"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains(&said), "{}", r.stderr);
    assert_eq!(r.stdout_text(), by_id.stdout_text(), "dev-killed's own layers");
}

/// Two Docker containers with one `Name` (dev-fschanges renamed `/dev-running`): dockerd
/// would load only one of them, so a lookup by that name picks neither and names both IDs,
/// damage (exit 3), in `container inspect` and the layer commands alike; each is still found
/// by its ID. Every lookup silently answered with the first, exit 0.
#[test]
fn a_name_two_docker_containers_hold_names_neither() {
    let node = unpack_with_snapshots();
    let running = id_of(&node, "dev-running");
    let fschanges = id_of(&node, "dev-fschanges");
    let config = node.docker().join("containers").join(&fschanges).join("config.v2.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let renamed = text.replacen(r#""Name":"/dev-fschanges""#, r#""Name":"/dev-running""#, 1);
    assert_ne!(text, renamed);
    std::fs::write(&config, renamed).unwrap();
    for args in [
        &["container", "inspect", "dev-running"][..],
        &["container", "inspect", "/dev-running"],
        &["diff", "dev-running"],
        &["mounts", "dev-running"],
        &["fs", "ls", "dev-running:/"],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("container name dev-running is held by 2 Docker containers"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&running) && r.stderr.contains(&fschanges),
            "{args:?}: {}",
            r.stderr
        );
        assert!(!r.stdout_text().contains(&running), "{args:?}: answered with one");
    }
    for id in [&running, &fschanges] {
        let r = run(&node.root(), &["container", "inspect", "-f", "{{.Id}}", id]);
        assert_eq!((r.code, r.stdout_text().trim()), (Some(0), id.as_str()), "{}", r.stderr);
        let r = run(&node.root(), &["mounts", &id[..12]]);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
    }
}

/// A Docker container whose rw snapshot meta.db does not record (dev-fschanges' files under
/// a new ID, `lost-layer`): the container is found, its layer's record is what is gone, so
/// `diff`, `mounts` and `fs` say it as damage (exit 3), naming the container and the missing
/// key, as `ps -s` and `container inspect -s` do. They exited 1, as if no such container.
#[test]
fn a_container_whose_snapshot_is_not_recorded_is_damage() {
    let node = unpack_with_snapshots();
    let fschanges = id_of(&node, "dev-fschanges");
    let lost = format!("{}abc01", "0".repeat(59));
    let containers = node.docker().join("containers");
    let dir = containers.join(&lost);
    std::fs::create_dir(&dir).unwrap();
    let config = std::fs::read_to_string(containers.join(&fschanges).join("config.v2.json")).unwrap();
    let config = config
        .replacen(&format!(r#""ID":"{fschanges}""#), &format!(r#""ID":"{lost}""#), 1)
        .replacen(r#""Name":"/dev-fschanges""#, r#""Name":"/lost-layer""#, 1);
    std::fs::write(dir.join("config.v2.json"), config).unwrap();
    std::fs::copy(
        containers.join(&fschanges).join("hostconfig.json"),
        dir.join("hostconfig.json"),
    )
    .unwrap();
    let said = format!("container {lost}: its snapshot moby/{lost} (overlayfs) is not recorded");
    let r = run(&node.root(), &["ps", "-a", "-s", "-f", "name=lost-layer"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains(&said), "{}", r.stderr);
    for args in [
        &["diff", "lost-layer"][..],
        &["mounts", "lost-layer"],
        &["fs", "ls", "lost-layer:/"],
        &["mounts", &lost],
        &["diff", &lost[..12]],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(&said), "{args:?}: {}", r.stderr);
    }
}

/// hostconfig.json hard-linked to another container's: that container is listed, its
/// hostconfig is not read a second time, and the link is named.
#[test]
fn a_hard_linked_hostconfig_is_read_once() {
    let node = unpack();
    let (dirs, second) = link_second_to_first(&node, "hostconfig.json");
    let r = run(&node.root(), &["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let named = format!("{}: the same file as", second.display());
    assert!(r.stderr.contains(&named), "{}", r.stderr);
    assert_eq!(lines_json(&r.stdout).len(), dirs.len(), "every container still listed");
}

/// The full ID of the container named `name`, as `ps` finds it.
/// The same two Docker containers named `/dev-running`, listed: `ps -a` in every format and
/// `timeline` still list both, but say the name is held by both (dockerd would load only one
/// of them), exit 3, as a lookup by that name does. Both were listed silently, exit 0.
#[test]
fn a_listing_says_a_name_two_docker_containers_hold() {
    let node = unpack();
    let running = id_of(&node, "dev-running");
    let fschanges = id_of(&node, "dev-fschanges");
    let config = node.docker().join("containers").join(&fschanges).join("config.v2.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let renamed = text.replacen(r#""Name":"/dev-fschanges""#, r#""Name":"/dev-running""#, 1);
    assert_ne!(text, renamed);
    std::fs::write(&config, renamed).unwrap();
    for args in [
        &["ps", "-a"][..],
        &["ps", "-a", "--no-trunc"],
        &["ps", "-a", "-q", "--no-trunc"],
        &["ps", "-a", "--no-trunc", "--format", "json"],
        &["ps", "-a", "--no-trunc", "--format", "raw"],
        &["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"],
        &["timeline"],
        &["timeline", "--format", "jsonl"],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        let said: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.contains("container name dev-running is held by 2 Docker containers"))
            .collect();
        assert_eq!(said.len(), 1, "{args:?}: {}", r.stderr);
        assert!(
            said[0].contains(&running) && said[0].contains(&fschanges),
            "{args:?}: {}",
            r.stderr
        );
        // Both rows still listed.
        let out = r.stdout_text();
        for id in [&running, &fschanges] {
            assert!(out.contains(&id[..12]), "{args:?}: {id} not listed\n{out}");
        }
    }
    // Not a Docker container's listing: not said.
    let r = run(&node.root(), &["-n", "default", "ps", "-a"]);
    assert!(!r.stderr.contains("held by"), "{}", r.stderr);
}

fn id_of(node: &Node, name: &str) -> String {
    let r = run(
        &node.root(),
        &["ps", "-a", "-q", "--no-trunc", "-f", &format!("name={name}")],
    );
    let id = String::from_utf8(r.stdout).unwrap().trim().to_string();
    assert_eq!(id.len(), 64, "{name}: {}", r.stderr);
    id
}

/// [`unpack`], and the overlayfs snapshotter's metadata.db with its layer and work
/// directories, empty (for `mounts`, which names them and says when one is missing).
fn unpack_with_snapshots() -> Node {
    let node = unpack();
    let snapshots = "./var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots";
    docker28_node::unpack_members(
        node.dir.path(),
        &[
            "./var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/metadata.db",
            "--no-recursion",
            "--wildcards",
            "--no-wildcards-match-slash",
            &format!("{snapshots}/*/fs"),
            &format!("{snapshots}/*/work"),
        ],
    );
    node
}

/// A Docker root named with `--docker-root` that has no `containers/`: what was named to be
/// read is not there. `ps` said so (exit 4); `which` printed "container: none" with exit 0,
/// and `diff`, `fs`, `mounts` only "no snapshot key, container ID, name..." (exit 1). Each
/// now says the line `ps` says, exit 4. One found beside the containerd root without it is
/// no Docker store, and is not said.
#[test]
fn a_named_docker_root_without_containers_is_said_by_every_command() {
    let node = unpack_with_snapshots();
    std::fs::remove_dir_all(node.docker().join("containers")).unwrap();
    let docker = node.docker().display().to_string();
    let said = format!("coldctr: {docker}: no containers directory in the Docker data root");
    let layer = node
        .root()
        .join("io.containerd.snapshotter.v1.overlayfs/snapshots/79/fs")
        .display()
        .to_string();
    for args in [
        &["ps", "-a"][..],
        &["which", &layer],
        &["diff", "dev-running"],
        &["fs", "ls", "dev-running:/"],
        &["mounts", "dev-running"],
    ] {
        let mut with_root = vec!["--docker-root", &docker];
        with_root.extend(args);
        let r = run(&node.root(), &with_root);
        assert_eq!(r.code, Some(4), "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr.lines().filter(|l| *l == said).count(),
            1,
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = run(&node.root(), &["which", &layer]);
    assert!(r.stdout_text().contains("container:    none"), "{}", r.stdout_text());
    assert!(!r.stderr.contains("no containers directory"), "{}", r.stderr);
    let r = run(&node.root(), &["mounts", "dev-running"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(!r.stderr.contains("no containers directory"), "{}", r.stderr);
}

/// A key repeated in `config.v2.json` reads as dockerd's Go decoder reads it (the last value;
/// a repeated object merged into the first) by every command: `container inspect` and `ps`
/// (one reader) and the name lookup of `mounts`, `diff` and `fs` (another) agree. The first
/// `Name` used to name the container for one and made the file unreadable for the other.
/// A key dockerd skips may nest as deep as Go reads (10,000 levels): the layer commands read
/// the config as `ps` does, and still name the container by it (they once said "not JSON:
/// recursion limit exceeded" past serde's 128 levels, and lost the name).
#[test]
fn deep_nesting_in_a_skipped_key_is_read_by_every_command() {
    let node = unpack_with_snapshots();
    let id = id_of(&node, "dev-exit3");
    let config = node.docker().join("containers").join(&id).join("config.v2.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let body = text.trim_end().strip_suffix('}').unwrap();
    std::fs::write(
        &config,
        format!("{body},\"Zzz\":{}{}}}", "[".repeat(200), "]".repeat(200)),
    )
    .unwrap();
    for args in [
        &["ps", "-a", "-q"][..],
        &["diff", "dev-exit3"],
        &["fs", "ls", "dev-exit3:/"],
        &["mounts", "dev-running"],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_repeated_key_in_config_reads_as_dockerd_reads_it() {
    let node = unpack_with_snapshots();
    let id = id_of(&node, "dev-running");
    let config = node.docker().join("containers").join(&id).join("config.v2.json");
    let text = std::fs::read_to_string(&config).unwrap();
    let repeats = [
        (r#""Name":"/dev-running""#, r#""Name":"/first","Name":"/second""#),
        (
            r#""com.example.scenario":"running-at-crash""#,
            r#""com.example.scenario":"one","com.example.scenario":"two""#,
        ),
    ];
    let text = repeats.iter().fold(text, |text, (from, to)| {
        assert!(text.contains(from), "the fixture's config has {from}");
        text.replace(from, to)
    });
    std::fs::write(&config, text).unwrap();

    let r = run(
        &node.root(),
        &["container", "inspect", "-f", "{{.Name}} {{json .Config.Labels}}", &id],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let shown = String::from_utf8(r.stdout).unwrap();
    assert!(shown.starts_with("/second "), "{shown}");
    assert_eq!(shown.matches("com.example.scenario").count(), 1, "{shown}");
    assert!(shown.contains(r#""com.example.scenario":"two""#), "{shown}");
    for (filter, listed) in [
        ("label=com.example.scenario=two", true),
        ("label=com.example.scenario=one", false),
        ("name=second", true),
        ("name=first", false),
    ] {
        let r = run(&node.root(), &["ps", "-a", "-q", "--no-trunc", "-f", filter]);
        assert_eq!(
            String::from_utf8_lossy(&r.stdout).contains(&id),
            listed,
            "{filter}: {}",
            r.stderr
        );
    }
    let by_id = run(&node.root(), &["mounts", &id]);
    let by_name = run(&node.root(), &["mounts", "second"]);
    assert_eq!(by_name.code, Some(0), "{}", by_name.stderr);
    assert!(!by_id.stdout.is_empty());
    assert_eq!(by_name.stdout, by_id.stdout);
    let r = run(&node.root(), &["mounts", "first"]);
    assert_ne!(r.code, Some(0), "the first Name is not the container's");
}

/// Fields of `config.v2.json` that Go's decoder would refuse for their type (dockerd then
/// does not load the container) are damage, each named with its value: the container is
/// still listed, the times it has left are still in the timeline, and the exit code is 3.
/// A string `ExitCode` used to show as 0. A `Cmd` given as one string is no damage: moby's
/// `strslice.StrSlice` takes it as a list of one.
#[test]
fn mistyped_config_fields_are_named_as_damage() {
    let node = unpack();
    let id = id_of(&node, "dev-running");
    let config = node.docker().join("containers").join(&id).join("config.v2.json");
    let mut j: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    j["State"]["ExitCode"] = Value::from("x");
    j["State"]["Pid"] = Value::from(1.5);
    j["Config"]["Labels"]["n"] = Value::from(7);
    j["Config"]["Cmd"] = Value::from("sleep 1");
    j["State"]["Error"] = Value::Null;
    // Whole, but a float to Go: its ParseInt refuses `2.0` for an int.
    j["RestartCount"] = Value::from(2.0);
    std::fs::write(&config, serde_json::to_vec(&j).unwrap()).unwrap();
    assert!(
        String::from_utf8(std::fs::read(&config).unwrap())
            .unwrap()
            .contains(r#""RestartCount":2.0"#)
    );
    let wrong = [
        r#"State.ExitCode is "x", not an integer"#,
        "State.Pid is 1.5, not an integer",
        "RestartCount is 2 (written with a fraction or an exponent), not an integer",
        "Config.Labels is {",
    ];
    for args in [
        &["ps", "-a", "--format", "json"][..],
        &["container", "inspect", &id],
        &["timeline"],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        for w in wrong {
            let line = format!("{}: {w}", config.display());
            assert!(r.stderr.contains(&line), "{args:?}: no {line:?} in {}", r.stderr);
        }
        for not in ["State.Error", "Config.Cmd"] {
            assert!(!r.stderr.contains(not), "{args:?}: {not} is no damage: {}", r.stderr);
        }
        assert!(
            String::from_utf8_lossy(&r.stdout).contains(&id[..12]),
            "{args:?}: still shown"
        );
    }
    let r = run(
        &node.root(),
        &["container", "inspect", "-f", "{{json .Config.Cmd}}", &id],
    );
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), r#"["sleep 1"]"#);
    let ps = run(&node.root(), &["ps", "-a", "--format", "json"]);
    assert_eq!(lines_json(&ps.stdout).len(), CONTAINERS.len(), "every container listed");
}

/// A time Go's `time.Time` refuses in `config.v2.json` stops dockerd's decoder there (its
/// `UnmarshalJSON` error is returned at once, over a type error saved before it): the
/// refusals before it are named, it is named as where reading stopped, and nothing after it
/// is read or named, as Go reads nothing after it (checked with Go 1.19.8's `json.Unmarshal`
/// into moby's `Container` shape: the fields after a bad `Created` keep their zero values).
/// The container is still listed, with what was read before.
#[test]
fn a_time_go_refuses_stops_reading_config_where_go_stops() {
    let node = unpack();
    let id = id_of(&node, "dev-running");
    let config = node.docker().join("containers").join(&id).join("config.v2.json");
    let mut j: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    j["Config"]["Labels"]["n"] = Value::from(7);
    j["Created"] = Value::from("2026-13-45T99:99:99Z");
    j["State"]["StartedAt"] = Value::from("99999-01-01T00:00:00Z");
    j["RestartCount"] = Value::from(2.0);
    let text = serde_json::to_string(&j).unwrap();
    // Written with its keys sorted: Config, then Created, then the rest.
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(at("Config") < at("Created") && at("Created") < at("ID") && at("ID") < at("Name"));
    assert!(at("Name") < at("RestartCount") && at("RestartCount") < at("State"));
    std::fs::write(&config, text).unwrap();
    let stopped = format!(
        "{}: Created is \"2026-13-45T99:99:99Z\", not an RFC 3339 time; dockerd does not load such a file, and reads nothing after it",
        config.display()
    );
    for args in [&["ps", "-a", "--format", "json"][..], &["container", "inspect", &id]] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(3), "{args:?}: {}", r.stderr);
        let labels = format!("{}: Config.Labels is {{", config.display());
        assert!(r.stderr.contains(&labels), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(&stopped), "{args:?}: {}", r.stderr);
        for unread in ["StartedAt", "RestartCount", "ID \""] {
            assert!(
                !r.stderr.contains(unread),
                "{args:?}: {unread} is not read: {}",
                r.stderr
            );
        }
        assert!(
            String::from_utf8_lossy(&r.stdout).contains(&id[..12]),
            "{args:?}: still shown"
        );
    }
    let r = run(&node.root(), &["container", "inspect", &id]);
    let inspected: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        inspected[0]["Created"], "0001-01-01T00:00:00Z",
        "zeroed, as Go's time is"
    );
    assert_eq!(inspected[0]["Name"], "", "after the time: not read");
    assert_eq!(inspected[0]["State"]["StartedAt"], "0001-01-01T00:00:00Z");
    assert!(inspected[0]["Config"]["Labels"].is_object(), "before the time: read");
    let ps = run(&node.root(), &["ps", "-a", "--format", "json"]);
    assert_eq!(lines_json(&ps.stdout).len(), CONTAINERS.len(), "every container listed");
}

/// meta.db that cannot be opened (permissions) is exit 4 for `ps`, `container inspect` and
/// `timeline`, as for `images` (they said "containerd root not read" and exited 3), and the
/// Docker containers are still listed. IMAGE, which dockerd shows as the name given at create
/// only while that name still names the image, is then the image ID, with a note: without the
/// image records it is not known (it showed `lab/victim:1` for a removed image). Run as the
/// unprivileged user 65534 when the tests run as root, as tests/exit_codes.rs does.
#[test]
fn an_unreadable_meta_db_is_exit_4_and_image_is_not_guessed() {
    let node = unpack();
    let out = Command::new("chmod")
        .arg("-R")
        .arg("a+rX")
        .arg(node.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let meta = node.root().join("io.containerd.metadata.v1.bolt/meta.db");
    std::fs::set_permissions(&meta, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let as_nobody = |args: &[&str]| {
        unprivileged::coldctr_unprivileged()
            .arg("--root")
            .arg(node.root())
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["ps", "-a"][..],
        &["container", "inspect", "dev-running"],
        &["timeline"],
        &["images"],
    ] {
        let o = as_nobody(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(err.contains("Permission denied"), "{args:?}: {err}");
    }
    let o = as_nobody(&["ps", "-a", "--format", "json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is the image ID"), "{err}");
    let rows = lines_json(&o.stdout);
    assert_eq!(rows.len(), CONTAINERS.len(), "every container listed: {err}");
    for row in &rows {
        let id = row["ImageID"].as_str().unwrap().trim_start_matches("sha256:");
        let shown = row["Image"].as_str().unwrap();
        assert!(id.starts_with(shown) && shown.len() == 12, "{row}");
    }
    let victim = rows.iter().find(|r| r["Names"] == "dev-victim").unwrap();
    assert_eq!(victim["ImageRef"], "lab/victim:1", "the name given at create is kept");
}

/// One container's `config.v2.json` that cannot be opened (permissions) is exit 4 for every
/// command that reads the Docker containers, also those that read it only to resolve names
/// (`mounts`, `snapshots tree`: they said "not readable as JSON" and exited 3). Run as the
/// unprivileged user 65534 when the tests run as root, as tests/exit_codes.rs does.
#[test]
fn an_unreadable_config_is_exit_4_for_every_command_that_reads_it() {
    let node = unpack_with_snapshots();
    let out = Command::new("chmod")
        .arg("-R")
        .arg("a+rX")
        .arg(node.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let ids: Vec<String> = {
        let r = run(&node.root(), &["ps", "-a", "-q", "--no-trunc", "-f", "source=docker"]);
        String::from_utf8(r.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert!(ids.len() >= 2);
    let config = node.docker().join("containers").join(&ids[0]).join("config.v2.json");
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    for args in [
        &["ps", "-a"][..],
        &["timeline"],
        &["mounts", &ids[1]],
        &["snapshots", "tree"],
    ] {
        let o = unprivileged::coldctr_unprivileged()
            .arg("--root")
            .arg(node.root())
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        let said = format!("{}: Permission denied", config.display());
        assert!(err.contains(&said), "{args:?}: {err}");
        assert!(!err.contains("not readable as JSON"), "{args:?}: {err}");
        assert!(!o.stdout.is_empty(), "{args:?}: the rest still printed");
    }
}

/// A Docker data root that cannot be looked into (a node's `/var/lib/docker` is 0710 root;
/// here 0010, which refuses its owner too) is unreadable, exit 4, named with the error, for
/// every command that reads the Docker containers, found beside the containerd root or given
/// with `--docker-root`; a lookup that finds nothing says the store may hold the container.
/// `ps -a` and `timeline` said "no Docker data root was found" and exited 0, `container
/// inspect` "No such container" and `diff`/`mounts`/`fs` "no snapshot key, container ID, name
/// or ID prefix", exit 1; given, `ps` said "no containers directory". Run as the unprivileged
/// user 65534 when the tests run as root, as tests/exit_codes.rs does.
#[test]
fn an_unreadable_docker_root_is_exit_4_never_absent() {
    use std::os::unix::fs::PermissionsExt;
    let node = unpack_with_snapshots();
    let out = Command::new("chmod")
        .arg("-R")
        .arg("a+rX")
        .arg(node.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::set_permissions(node.docker(), std::fs::Permissions::from_mode(0o010)).unwrap();
    let as_nobody = |args: &[&str]| {
        unprivileged::coldctr_unprivileged()
            .arg("--root")
            .arg(node.root())
            .args(args)
            .output()
            .unwrap()
    };
    let named = format!("{}: cannot be read: Permission denied", node.docker().display());
    let docker = node.docker().display().to_string();
    let cases: [(&[&str], bool); 8] = [
        (&["ps", "-a"], false),
        (&["timeline"], false),
        (&["container", "inspect", "dev-running"], true),
        (&["diff", "dev-fschanges"], true),
        (&["mounts", "dev-running"], true),
        (&["fs", "ls", "dev-created:/"], true),
        (&["--docker-root", &docker, "ps", "-a"], false),
        (&["--docker-root", &docker, "mounts", "dev-running"], true),
    ];
    let seen: Vec<_> = cases
        .iter()
        .map(|(args, _)| {
            let o = as_nobody(args);
            (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
        })
        .collect();
    // Back before asserting: the temp dir must stay removable by a non-root owner.
    std::fs::set_permissions(node.docker(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for ((code, err), (args, lookup)) in seen.iter().zip(cases) {
        assert_eq!(*code, Some(4), "{args:?}: {err}");
        assert!(err.contains(&named), "{args:?}: {err}");
        assert!(!err.contains("no Docker data root"), "{args:?}: {err}");
        assert!(!err.contains("no containers directory"), "{args:?}: {err}");
        if lookup {
            let said = format!("the Docker store {docker} could not be read (said above), and may hold it");
            assert!(err.contains(&said), "{args:?}: {err}");
        }
    }
    // The root searchable, `containers/` not listable: the lookups say that store may hold
    // the container too (they said only "No such container" or "no snapshot key", beside
    // the permission error).
    let containers = node.docker().join("containers");
    std::fs::set_permissions(&containers, std::fs::Permissions::from_mode(0o010)).unwrap();
    let seen: Vec<_> = [&["container", "inspect", "dev-running"][..], &["mounts", "dev-running"]]
        .iter()
        .map(|args| {
            let o = as_nobody(args);
            (
                args.to_vec(),
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .collect();
    std::fs::set_permissions(&containers, std::fs::Permissions::from_mode(0o755)).unwrap();
    let said = format!(
        "the Docker store {} could not be read (said above), and may hold it",
        containers.display()
    );
    for (args, code, err) in seen {
        assert_eq!(code, Some(4), "{args:?}: {err}");
        assert!(err.contains("Permission denied"), "{args:?}: {err}");
        assert!(err.contains(&said), "{args:?}: {err}");
    }
}

/// The layer commands (`diff`, `mounts`, `fs`, `snapshots tree`) read `config.v2.json` to
/// resolve names, and name every container file they skip or find damaged as `ps` does, with
/// its exit code (3): a config that is a symlink or a FIFO, one with a field dockerd would
/// not load, a directory that is not a container's, a container directory that is a symlink.
/// They used to say nothing: the container's own name was "no snapshot key, container ID,
/// name or ID prefix" (exit 1), any other target exit 0 with an empty stderr.
#[test]
fn layer_commands_name_the_container_files_they_skip_as_ps_does() {
    let node = unpack_with_snapshots();
    let id = id_of(&node, "dev-oldapp");
    let containers = node.docker().join("containers");
    let dir = containers.join(&id);
    let config = dir.join("config.v2.json");
    let good = std::fs::read_to_string(&config).unwrap();
    let under = containers.display().to_string();
    // The stderr lines about the Docker store's files.
    let store_lines = |stderr: &str| -> BTreeSet<String> {
        stderr
            .lines()
            .filter(|l| l.contains(&under))
            .map(str::to_string)
            .collect()
    };
    let check = |case: &str, why: &str| {
        let ps = run(&node.root(), &["ps", "-a"]);
        assert_eq!(ps.code, Some(3), "{case}: ps: {}", ps.stderr);
        let said = store_lines(&ps.stderr);
        assert!(said.iter().any(|l| l.contains(why)), "{case}: ps: {}", ps.stderr);
        for args in [
            &["diff", "dev-oldapp"][..],
            &["mounts", "dev-oldapp"],
            &["fs", "ls", "dev-oldapp:/"],
            &["diff", "dev-running"],
            &["mounts", "dev-running"],
            &["snapshots", "tree"],
        ] {
            let r = run(&node.root(), args);
            assert_eq!(r.code, Some(3), "{case}: {args:?}: {}", r.stderr);
            assert_eq!(store_lines(&r.stderr), said, "{case}: {args:?}: {}", r.stderr);
        }
    };
    std::fs::rename(&config, dir.join("real.json")).unwrap();
    std::os::unix::fs::symlink("real.json", &config).unwrap();
    check("a symlinked config", "config.v2.json: a symlink");
    std::fs::remove_file(&config).unwrap();
    let c = std::ffi::CString::new(config.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    check("a FIFO config", "config.v2.json: a FIFO");
    std::fs::remove_file(&config).unwrap();
    let at = good.find("\"Created\":\"").unwrap() + "\"Created\":\"".len();
    let end = at + good[at..].find('"').unwrap();
    std::fs::write(&config, format!("{}yesterday{}", &good[..at], &good[end..])).unwrap();
    check("a mistyped Created", "config.v2.json: Created is \"yesterday\"");
    std::fs::write(&config, &good).unwrap();
    std::fs::create_dir(containers.join("junk")).unwrap();
    check("a directory not named by an ID", "junk: not a container directory");
    std::fs::remove_dir(containers.join("junk")).unwrap();
    std::os::unix::fs::symlink(&dir, containers.join("f".repeat(64))).unwrap();
    check("a symlinked container directory", "a symlink, not followed");
}

/// A `config.v2.json` whose strings hold what Go's encoding/json reads as U+FFFD (a lone
/// surrogate escape, a byte that is not UTF-8) is read as dockerd reads it, not dropped: the
/// container is listed and inspected, those strings with U+FFFD and every other field as
/// dockerd printed it.
#[test]
fn a_config_with_strings_go_reads_as_replacement_characters_is_read_as_dockerd_reads_it() {
    let node = unpack();
    let id = id_of(&node, "dev-oldapp");
    let file = node.docker().join("containers").join(&id).join("config.v2.json");
    let text = std::fs::read(&file).unwrap();
    let replace = |t: Vec<u8>, from: &[u8], to: &[u8]| {
        let at = t
            .windows(from.len())
            .position(|w| w == from)
            .expect("in config.v2.json");
        [&t[..at], to, &t[at + from.len()..]].concat()
    };
    let text = replace(text, b"\"/dev-oldapp\"", b"\"/dev-oldapp\\ud800\"");
    let text = replace(text, b"\"image-retagged-away\"", b"\"image-retagged\xffaway\"");
    std::fs::write(&file, text).unwrap();

    let r = run(&node.root(), &["container", "inspect", &id[..12]]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stderr, "");
    // dockerd's own inspect of the container, with the two strings as Go 1.19's json.Unmarshal
    // decodes them ("/dev-oldapp\ufffd", "image-retagged\ufffdaway").
    let mut want: Value = serde_json::from_str(&expected_text("containers/dev-oldapp/inspect.json")).unwrap();
    want[0]["Name"] = Value::from("/dev-oldapp\u{fffd}");
    want[0]["Config"]["Labels"]["com.example.scenario"] = Value::from("image-retagged\u{fffd}away");
    let got: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(got, want);
    let r = run(&node.root(), &["ps", "-a", "--format", "json", "-f", "source=docker"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let names: BTreeSet<String> = lines_json(&r.stdout)
        .iter()
        .map(|c| c["Names"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(names.contains("dev-oldapp\u{fffd}"), "{names:?}");
    assert_eq!(names.len(), CONTAINERS.len());
}

/// The upper dir of container `name` in an unpacked node, where dockerd's snapshotter had it
/// (`truth.json`'s `upperdir`, a node path).
fn upper_dir(node: &Node, name: &str) -> PathBuf {
    let truth: Vec<Value> = serde_json::from_str(&expected_text("truth.json")).unwrap();
    let t = truth.iter().find(|t| t["name"] == name).unwrap();
    node.dir
        .path()
        .join(t["upperdir"].as_str().unwrap().trim_start_matches('/'))
}

fn allocated(p: &Path) -> i64 {
    use std::os::unix::fs::MetadataExt;
    i64::try_from(std::fs::symlink_metadata(p).unwrap().blocks() * 512).unwrap()
}

fn docker_sizes(name: &str) -> (i64, i64) {
    let want: Value = serde_json::from_str(&expected_text(&format!("containers/{name}/inspect-size.json"))).unwrap();
    (
        want[0]["SizeRw"].as_i64().unwrap(),
        want[0]["SizeRootFs"].as_i64().unwrap(),
    )
}

/// `container inspect --size` and `ps --size` on the node's records with empty upper dirs
/// ([`unpack_with_snapshots`]): what dockerd adds to the rw layer is the usage its snapshotter
/// recorded for every layer below it, the same on any filesystem: it equals dockerd's
/// (`SizeRootFs - SizeRw` of `inspect-size.json`) for every container. The rw layers with
/// their files are measured on the whole node (`tests/overlay.rs`). An upper dir missing, or
/// reached through a symlink, leaves that container's sizes out and names the path (exit 3),
/// as dockerd fails its whole request there; the others are still measured.
#[test]
fn sizes_add_the_recorded_layers_below_as_dockerd_does_and_name_a_missing_upper_dir() {
    let node = unpack_with_snapshots();
    for name in CONTAINERS {
        let (rw, root_fs) = docker_sizes(name);
        let r = run(&node.root(), &["container", "inspect", "--size", name]);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        let ours: Value = serde_json::from_slice(&r.stdout).unwrap();
        let (our_rw, our_root_fs) = (
            ours[0]["SizeRw"].as_i64().unwrap(),
            ours[0]["SizeRootFs"].as_i64().unwrap(),
        );
        assert_eq!(
            our_root_fs - our_rw,
            root_fs - rw,
            "{name}: the layers below the rw layer"
        );
        // The upper dir is empty here: its own blocks.
        assert_eq!(our_rw, allocated(&upper_dir(&node, name)), "{name}");
    }
    // Without --size: not there, as dockerd leaves the pointers nil. Templates see moby's
    // `*int64` fields.
    let r = run(&node.root(), &["container", "inspect", "dev-running"]);
    assert!(!r.stdout_text().contains("SizeRw"));
    let typed = "{{.SizeRw}} {{printf \"%T\" .SizeRootFs}}";
    let r = run(&node.root(), &["container", "inspect", "-f", typed, "dev-running"]);
    assert_eq!(r.stdout_text(), "<nil> *int64\n");
    let r = run(
        &node.root(),
        &["container", "inspect", "-s", "-f", typed, "dev-running"],
    );
    let rw = allocated(&upper_dir(&node, "dev-running"));
    assert_eq!(r.stdout_text(), format!("{rw} *int64\n"));

    // dev-running's upper dir gone; dev-killed's snapshot dir a link to a tree elsewhere.
    std::fs::remove_dir(upper_dir(&node, "dev-running")).unwrap();
    let killed_dir = upper_dir(&node, "dev-killed").parent().unwrap().to_path_buf();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir(elsewhere.path().join("fs")).unwrap();
    std::fs::write(elsewhere.path().join("fs/big"), vec![1u8; 200_000]).unwrap();
    std::fs::remove_dir_all(&killed_dir).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &killed_dir).unwrap();
    let r = run(&node.root(), &["ps", "-a", "--size", "--no-trunc", "--format", "json"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let running_upper = upper_dir(&node, "dev-running");
    assert!(
        r.stderr
            .contains(&format!("{}: No such file or directory", running_upper.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{}: a symlink, not followed", killed_dir.display())),
        "{}",
        r.stderr
    );
    let rows = lines_json(&r.stdout);
    assert_eq!(rows.len(), 8);
    for row in &rows {
        let name = row["Names"].as_str().unwrap();
        let broken = name == "dev-running" || name == "dev-killed";
        assert_eq!(row.get("Size").is_none(), broken, "{name}");
        assert_eq!(row.get("SizeRw").is_none(), broken, "{name}");
    }
    // inspect: the body without the sizes, as dockerd prints it without --size.
    let r = run(&node.root(), &["container", "inspect", "--size", "dev-running"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert_eq!(r.stdout_text(), expected_text("containers/dev-running/inspect.json"));
    // A template that reads .Size (json of the container reads it) measures; one that does
    // not, or --size=false, does not, and meets no damage.
    let r = run(&node.root(), &["ps", "-a", "--format", "{{json .}}"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(lines_json(&r.stdout).iter().any(|o| o.get("Size").is_some()));
    let r = run(&node.root(), &["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    // Not measured, docker's `Size()` of a summary without sizes is `0B`; ours (the exact
    // bytes) are left out, as there are none.
    for args in [
        &["ps", "-a", "--size=false", "--format", "{{json .}}"][..],
        &["ps", "-a", "--format", "json"],
    ] {
        let r = run(&node.root(), args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        let rows = lines_json(&r.stdout);
        assert_eq!(rows.len(), 8, "{args:?}");
        for o in rows {
            assert_eq!(o["Size"], "0B", "{args:?}");
            assert!(o.get("SizeRw").is_none() && o.get("SizeRootFs").is_none(), "{args:?}");
        }
    }
    let r = run(
        &node.root(),
        &["ps", "-a", "--size=false", "--format", "{{.Names}}={{.Size}}"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout_text().lines().all(|l| l.ends_with("=0B")),
        "{}",
        r.stdout_text()
    );
}

/// A copy of the root without the snapshotter's directory (meta.db alone): sizes are not
/// measured, said once, and that is no damage.
#[test]
fn sizes_without_the_snapshotter_directory_are_not_measured() {
    let node = unpack();
    let r = run(&node.root(), &["ps", "-a", "--size", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stderr
            .matches("io.containerd.snapshotter.v1.overlayfs is not there")
            .count(),
        1,
        "{}",
        r.stderr
    );
    assert!(lines_json(&r.stdout).iter().all(|o| o.get("Size").is_none()));
}

/// The COMMAND cell of each row of a `ps` table, by container ID (the text under the header's
/// COMMAND up to where CREATED starts, both tables being aligned by a tabwriter).
fn command_cells(table: &str) -> BTreeMap<String, String> {
    let mut lines = table.lines();
    let header = lines.next().expect("a header");
    let (from, to) = (
        header.find("COMMAND").expect("COMMAND"),
        header.find("CREATED").expect("CREATED"),
    );
    lines
        .map(|l| {
            let chars: Vec<char> = l.chars().collect();
            let id: String = chars.iter().take_while(|c| !c.is_whitespace()).collect();
            (id, chars[from..to].iter().collect::<String>().trim_end().to_string())
        })
        .collect()
}

/// docker quotes COMMAND with Go's `strconv.Quote` (a `"` inside is `\"`), after cutting it to
/// 20 characters when it truncates; the table printed the command between bare quotes and cut
/// the quoted text, losing the closing quote.
#[test]
fn ps_table_commands_are_quoted_as_docker_quotes_them() {
    let node = unpack();
    let r = run(&node.root(), &["ps", "-a", "--no-trunc"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let ours = command_cells(&String::from_utf8_lossy(&r.stdout));
    let docker = command_cells(&expected_text("ps-a.txt"));
    assert_eq!(ours.len(), 8);
    assert_eq!(ours, docker);
    assert!(ours.values().any(|c| c.contains(r#"\"pid $$\""#)), "{ours:?}");
    // Cut: docker/cli's `Ellipsis(command, 20)`, then quoted.
    let r = run(&node.root(), &["ps", "-a"]);
    let cut = command_cells(&String::from_utf8_lossy(&r.stdout));
    for (id, whole) in &docker {
        let short: String = id.chars().take(12).collect();
        let inner: String = serde_json::from_str::<String>(whole).expect("a quoted command");
        let want = if inner.chars().count() > 20 {
            format!("{}…", inner.chars().take(19).collect::<String>())
        } else {
            inner
        };
        assert_eq!(
            cut.get(&short).map(String::as_str),
            Some(serde_json::to_string(&want).expect("json").as_str()),
            "{id}"
        );
    }
}

/// docker/cli cuts COMMAND to 20 columns, counting an East Asian wide character as two: a
/// command of CJK characters was cut at 20 characters (40 columns) where docker prints 9 and `…`.
#[test]
fn ps_cuts_wide_commands_by_columns_as_docker_does() {
    let node = unpack();
    let file = node
        .docker()
        .join("containers/a300da2266655cd7c431213e7e0511d5e09ee7174122e3590a112df142ca38f7/config.v2.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("config")).expect("json");
    config["Path"] = Value::from("echo");
    config["Args"] = serde_json::json!(["你好世界你好世界你好世界"]);
    std::fs::write(&file, config.to_string()).expect("write");
    let r = run(&node.root(), &["ps", "-a"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let stdout = String::from_utf8_lossy(&r.stdout);
    let row = stdout.lines().find(|l| l.starts_with("a300da226665")).expect("the row");
    // "echo " is 5 columns; then 7 characters of 2 end at 19, the 8th would end at 21.
    assert!(row.contains("\"echo 你好世界你好世…\""), "{row}");
    let r = run(&node.root(), &["ps", "-a", "--format", "{{.Command}}"]);
    assert!(
        String::from_utf8_lossy(&r.stdout)
            .lines()
            .any(|l| l == "\"echo 你好世界你好世…\""),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
}

/// The CRI root has no content store and meta.db names no blob: nothing is lost, so nothing
/// is said. Every reader of blobs said "meta.db names blobs, but no file of any of them can be
/// read" and exited 3 (gc after "Nothing would be removed").
#[test]
fn a_root_that_never_held_a_blob_is_not_a_lost_content_store() {
    let dir = unpack_cri();
    assert!(!dir.path().join("io.containerd.content.v1.content").exists());
    for args in [
        &["images"][..],
        &["content"],
        &["du"],
        &["gc"],
        &["verify"],
        &["namespaces"],
    ] {
        let r = run(dir.path(), args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("content store not read"), "{args:?}: {}", r.stderr);
    }
}

/// Messages name what they are about as the user named it: `mounts` of a committed snapshot
/// said "snapshot is Committed" without its key, and `fs` named a path without its leading `/`
/// (`etc/nonexist: no such file or directory`).
#[test]
fn refusals_name_the_snapshot_and_the_path_as_given() {
    let node = unpack_with_snapshots();
    let r = run(&node.root(), &["snapshots", "--format", "json"]);
    let listed: Value = serde_json::from_slice(&r.stdout).expect("snapshots json");
    let committed = listed
        .as_array()
        .and_then(|a| a.iter().find(|s| s["kind"] == "Committed"))
        .and_then(|s| s["key"].as_str())
        .expect("a committed snapshot")
        .to_string();
    let r = run(&node.root(), &["mounts", &committed]);
    assert_ne!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("snapshot {committed} (overlayfs) is Committed")),
        "{}",
        r.stderr
    );
    let r = run(&node.root(), &["fs", "cat", "dev-running:/nonexist/x"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("coldctr: /nonexist: no such file or directory"),
        "{}",
        r.stderr
    );
}

/// PORTS was always empty: dockerd lists one port per binding of `NetworkSettings.Ports` (a
/// bare private port for none) and docker/cli groups and orders them. The node's containers
/// ran with `--network none`; one is given the bindings a `-p 8080:80` on a dual-stack host
/// records.
#[test]
fn ps_ports_are_the_recorded_bindings_as_docker_ps_prints_them() {
    let node = unpack();
    let id = id_of(&node, "dev-running");
    let config = node.docker().join("containers").join(&id).join("config.v2.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    v["NetworkSettings"]["Ports"] = serde_json::json!({
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
        "443/tcp": null
    });
    std::fs::write(&config, serde_json::to_vec(&v).unwrap()).unwrap();
    let want = "443/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp";
    let r = run(&node.root(), &["ps", "--format", "json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let rows = lines_json(&r.stdout);
    let row = rows.iter().find(|j| j["Names"] == "dev-running").expect("dev-running");
    assert_eq!(row["Ports"], want);
    let r = run(&node.root(), &["ps", "--format", "{{.Names}} {{.Ports}}"]);
    assert!(
        r.stdout_text().contains(&format!("dev-running {want}")),
        "{}",
        r.stdout_text()
    );
    // The others, as docker's own capture has them.
    let r = run(&node.root(), &["ps", "-a", "--format", "json"]);
    for j in lines_json(&r.stdout).iter().filter(|j| j["Names"] != "dev-running") {
        assert_eq!(j["Ports"], "", "{j}");
    }
}

/// `-n` narrows the container lookups too: `container inspect` printed a Docker container
/// (namespace moby) for `-n default` or `-n nosuch`, and `mounts` found it by name under any
/// `-n`; `which` takes a path and narrows nothing, so it refuses `-n` (exit 2).
#[test]
fn container_lookups_keep_to_the_namespace_given() {
    let node = unpack_with_snapshots();
    let r = run(&node.root(), &["-n", "moby", "container", "inspect", "dev-running"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = run(&node.root(), &["-n", "default", "container", "inspect", "dev-running"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let r = run(&node.root(), &["-n", "nosuch", "container", "inspect", "dev-running"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("namespace nosuch not found"), "{}", r.stderr);
    let r = run(&node.root(), &["-n", "default", "mounts", "dev-running"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let r = run(&node.root(), &["-n", "moby", "mounts", "dev-running"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let upper = node
        .root()
        .join("io.containerd.snapshotter.v1.overlayfs/snapshots/49/fs");
    let r = run(&node.root(), &["-n", "moby", "which", upper.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
}

/// The real containerd 1.6 and 1.7 roots (both meta.db schema 3): 1.7 wrote a `sandboxid` key
/// into its container record, 1.6 did not, and that names the ctr whose object is printed
/// when `--containerd` does not: 1.7's with `SandboxID`, 1.6's without.
#[test]
fn the_store_says_1_6_or_1_7_by_its_container_records() {
    for (fixture, ns, id, sandbox) in [
        ("containerd-1.6", "default", "lab-c1", false),
        ("containerd-1.7", "moby", "c17", true),
    ] {
        let r = run(
            &repo().join("fixtures").join(fixture),
            &["-n", ns, "container", "inspect", id],
        );
        assert_eq!(r.code, Some(0), "{fixture}: {}", r.stderr);
        let v: Value = serde_json::from_slice(&r.stdout).unwrap();
        let o = v[0].as_object().unwrap();
        assert_eq!(o.contains_key("SandboxID"), sandbox, "{fixture}: {o:?}");
    }
}

/// A containerd record whose spec does not decode (one byte of it made a control character
/// inside a string, in meta.db): ctr cannot print it; `container inspect --containerd`
/// shows it as its Any and says so, and `ps` says why its COMMAND is empty, both exit 3
/// (sweep 23: shown raw and `""`, exit 0, nothing said).
#[test]
fn a_spec_that_does_not_decode_is_said() {
    let node = unpack();
    let meta = node.root().join("io.containerd.metadata.v1.bolt/meta.db");
    let mut bytes = std::fs::read(&meta).unwrap();
    let needle = br#""ociVersion":""#;
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("a spec in meta.db")
        + needle.len();
    bytes[at] = 0x01;
    std::fs::write(&meta, &bytes).unwrap();
    let r = run(&node.root(), &["container", "inspect", "--containerd", "dev-running"]);
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains("its spec (") && r.stderr.contains("does not decode"),
        "{}",
        r.stderr
    );
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(v[0]["Spec"]["value"].is_string(), "{v:#}");
    let empty = tempfile::tempdir().unwrap();
    let r = run(
        &node.root(),
        &[
            "--docker-root",
            empty.path().to_str().unwrap(),
            "ps",
            "-a",
            "--format",
            "{{.ID}} {{.Command}}",
        ],
    );
    assert!(r.code >= Some(3), "{}", r.stderr);
    assert!(
        r.stderr.contains("does not decode (") && r.stderr.contains("no command"),
        "{}",
        r.stderr
    );
}

/// A seccomp filter that answers `openat2` with EPERM, not ENOSYS (older container runtimes'
/// profiles, systemd's `SystemCallFilter=`): the layers are read as on a kernel without it,
/// the same output (sweep 28.2: every layer "Operation not permitted", exit 4).
#[test]
fn openat2_refused_as_not_permitted_reads_as_without_it() {
    let node = unpack_with_snapshots();
    for args in [&["fs", "ls", "dev-running:/"][..], &["diff", "dev-running"]] {
        let free = run(&node.root(), args);
        assert_eq!(free.code, Some(0), "{args:?}: {}", free.stderr);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root").arg(node.root()).args(args).env_remove("COLDCTR_ROOT");
        if !unprivileged::refuse_syscall(&mut cmd, libc::SYS_openat2, libc::EPERM) {
            eprintln!("skipped: seccomp filters are written for x86_64 only");
            return;
        }
        let refused = cmd.output().expect("run coldctr");
        assert_eq!(
            refused.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&refused.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&refused.stdout), free.stdout_text(), "{args:?}");
    }
}

/// A seccomp filter that answers `renameat2` with EPERM: the export's commit falls back to a
/// rename after a look for OUT, as on a kernel without it (sweep 28.2: every export exit 5).
#[test]
fn renameat2_refused_as_not_permitted_still_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("webapp.tar");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
    cmd.arg("--root")
        .arg(repo().join("fixtures/docker-28.5"))
        .args(["-n", "moby", "export", "-o"])
        .arg(&out)
        .arg("webapp:1.0")
        .env_remove("COLDCTR_ROOT");
    if !unprivileged::refuse_syscall(&mut cmd, libc::SYS_renameat2, libc::EPERM) {
        eprintln!("skipped: seccomp filters are written for x86_64 only");
        return;
    }
    let o = cmd.output().expect("run coldctr");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::metadata(&out).is_ok_and(|m| m.len() > 10_000), "no archive");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["webapp.tar"]);
}

/// Too few file descriptors to open the layers' directories is the system refusing the read,
/// not damage of the tree: `fs`, `diff` and `fs export` say it, exit 4 (sweep 28.4: exit 3,
/// the overlay readers kept every failure but EACCES as damage).
#[test]
fn layers_that_cannot_be_opened_for_want_of_descriptors_are_exit_4() {
    use std::os::unix::process::CommandExt;
    let node = unpack_with_snapshots();
    let limited = |args: &[&str], fds: u64| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_coldctr"));
        cmd.arg("--root").arg(node.root()).args(args).env_remove("COLDCTR_ROOT");
        // SAFETY: between fork and exec, only setrlimit(2), async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: fds,
                    rlim_max: fds,
                };
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                Ok(())
            });
        }
        cmd.output().expect("run coldctr")
    };
    let mut met = 0;
    for args in [
        &["fs", "ls", "dev-running:/"][..],
        &["diff", "dev-running"],
        &["fs", "export", "dev-running", "-o", "-"],
    ] {
        let whole = limited(args, 1024);
        assert_eq!(
            whole.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&whole.stderr)
        );
        for fds in 4..=10 {
            let o = limited(args, fds);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("panicked"), "{args:?} {fds}: {err}");
            if err.contains("Too many open files") {
                met += 1;
                assert_eq!(o.status.code(), Some(4), "{args:?} with {fds} descriptors: {err}");
            } else {
                assert!(matches!(o.status.code(), Some(0 | 4)), "{args:?} {fds}: {err}");
            }
        }
    }
    assert!(met >= 3, "only {met} runs met the limit");
}

/// dockerd started with `--containerd-namespace mobx`: its running container's record (and
/// its images and snapshots, on the containerd image store) are in `mobx`, not `moby`. The record is still
/// that Docker container's (its own 64-hex ID): listed once, not a second time as a bare
/// containerd container, and IMAGE resolves in that namespace (sweep 34, F6: listed twice,
/// IMAGE the ID).
#[test]
fn a_dockerd_namespace_of_its_own_lists_each_container_once() {
    use coldctr::bolt::{Db, MetaChoice, ReadMode};
    let node = unpack_with_snapshots();
    let meta = node.root().join("io.containerd.metadata.v1.bolt/meta.db");
    let (at, end) = {
        let db = Db::open(&meta, ReadMode::Read).expect("open");
        let tx = db.view(MetaChoice::Current).expect("view");
        let v1 = tx.bucket_at(&[b"v1".as_slice()]).expect("v1").expect("v1 there");
        let ps = u64::from(db.page_size());
        (v1.root_page() * ps, (v1.root_page() + 1) * ps)
    };
    let mut bytes = std::fs::read(&meta).unwrap();
    let page = &mut bytes[at as usize..end as usize];
    let key = page.windows(4).position(|w| w == b"moby").expect("moby in v1's page");
    // `mobx` sorts where `moby` did among v1's keys (`default`, `version`).
    page[key..key + 4].copy_from_slice(b"mobx");
    std::fs::write(&meta, &bytes).unwrap();
    let tasks = node.root().join("io.containerd.runtime.v2.task");
    std::fs::rename(tasks.join("moby"), tasks.join("mobx")).unwrap();

    let r = run(
        &node.root(),
        &[
            "ps",
            "-a",
            "--format",
            "{{.ID}} {{.Names}} {{.Namespace}} {{.Image}} {{.State}}",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let out = r.stdout_text();
    let running: Vec<&str> = out.lines().filter(|l| l.starts_with("942acddbaeac")).collect();
    assert_eq!(
        running,
        ["942acddbaeac dev-running mobx lab/toolbox:1 running"],
        "{}",
        out
    );
    assert_eq!(out.lines().count(), CONTAINERS.len(), "{out}");
    assert!(out.lines().all(|l| l.split(' ').nth(2) == Some("mobx")), "{out}");

    // The same store as written, for the same fields: only the namespace differs.
    let plain = unpack_with_snapshots();
    let p = run(
        &plain.root(),
        &[
            "ps",
            "-a",
            "--format",
            "{{.ID}} {{.Names}} {{.Namespace}} {{.Image}} {{.State}}",
        ],
    );
    assert_eq!(out.replace(" mobx ", " moby "), p.stdout_text());
    // Its snapshots are found in that namespace too: sizes, diff, the mount line (review of
    // 52d097b: `ps -s` measured them, `diff` and `mounts` looked in moby, "not recorded").
    for args in [
        &["ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}"][..],
        &["diff", "dev-fschanges"],
        &["mounts", "dev-running"],
    ] {
        let (renamed, written) = (run(&node.root(), args), run(&plain.root(), args));
        assert_eq!(renamed.code, Some(0), "{args:?}: {}", renamed.stderr);
        let at = |n: &Node| n.dir.path().display().to_string();
        assert_eq!(
            renamed.stdout_text().replace(&at(&node), "NODE"),
            written.stdout_text().replace(&at(&plain), "NODE"),
            "{args:?}"
        );
    }
}

/// `name=` and `id=` as dockerd filters (moby 20.10 and 28, `daemon/list.go`): a name is
/// matched with and without its `/`, by Go's regexp or whole; an `id=` value is an ID prefix
/// naming one Docker container (an ambiguous one, or a regexp, names none), whose ID must then
/// match it too. A value Go's regexp refuses is no usage error: dockerd skips it.
#[test]
fn name_and_id_filters_match_as_dockerd() {
    let node = unpack();
    let names = |filter: &str| -> (Vec<String>, String) {
        let r = run(&node.root(), &["ps", "-a", "--format", "{{.Names}}", "-f", filter]);
        assert_eq!(r.code, Some(0), "{filter}: {}", r.stderr);
        let out = String::from_utf8(r.stdout).unwrap();
        (out.lines().map(str::to_string).collect(), r.stderr)
    };
    assert_eq!(names("name=^dev-k").0, ["dev-killed"]);
    assert_eq!(names("name=^/dev-k").0, ["dev-killed"]);
    assert_eq!(names("name=^dev-(?i)K+").0, ["dev-killed"]);
    assert_eq!(names("name=(?ii)^DEV-KILLED$").0, ["dev-killed"]);
    assert_eq!(names("name=^\\Qdev-killed\\E$").0, ["dev-killed"]);
    let (listed, said) = names("name=dev-(");
    assert!(listed.is_empty());
    assert!(
        said.contains("'name=dev-(': not a regular expression Go compiles"),
        "{said}"
    );
    let (listed, _) = names("name=(?:l{2}){501}|dev-killed");
    assert!(listed.is_empty(), "Go refuses more than 1000 copies: {listed:?}");
    let killed = id_of(&node, "dev-killed");
    assert_eq!(names(&format!("id={}", &killed[..4])).0, ["dev-killed"]);
    assert_eq!(names(&format!("id={killed}")).0, ["dev-killed"]);
    // Two of the node's IDs start with 9, two with 8: neither names a container.
    assert!(names("id=9").0.is_empty());
    assert!(names("id=8").0.is_empty());
    assert!(names("id=.*").0.is_empty());
    assert!(names(&format!("id={}", &killed[2..8])).0.is_empty());
    // Values of one key: any may name it, any may match it.
    let r = run(
        &node.root(),
        &[
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "-f",
            &format!("id={}", &killed[..4]),
            "-f",
            "id=^zzz",
        ],
    );
    assert_eq!(String::from_utf8(r.stdout).unwrap(), "dev-killed\n");
}
