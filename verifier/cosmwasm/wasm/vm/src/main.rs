//! zkinfer-cosmwasm's module in the real CosmWasm VM (cosmwasm-vm 3.0.11),
//! run the way wasmd runs it.
//!
//! ```text
//! zkinfer-wasm-vm check MODULE.wasm
//! zkinfer-wasm-vm run MODULE.wasm [--scenario polycommit] --fixtures DIR --budgets gas_budgets.json [--bless]
//! ```
//!
//! `check` runs what `cosmwasm-check` 3.0.11 runs — the VM's static checks
//! (`check_wasm`: memories, exports, imports, capabilities, function and
//! local limits, no floats, no bulk memory) and a compile with the VM's
//! engine — from the same crate.
//!
//! `run` stores the module in a `cosmwasm_vm::Cache` (checked, as wasmd's
//! upload does), then sends every message of the scenario to a fresh
//! `Instance` from the cache, the storage carried over from one to the next,
//! with wasmd's 32 MiB memory limit. Each message's gas is read from the
//! instance (`create_gas_report`) and converted the way wasmd does: VM gas
//! ÷ 140,000, plus 60,000 SDK gas for the instance. Storage is charged as
//! the Cosmos SDK's KV store charges it (see [`KvGas`]), inside the VM's
//! meter as wasmd does. The gas of every message is checked against the
//! committed budget; every refusal must leave the storage byte-for-byte
//! unchanged (the contract validates before it writes; wasmd would also
//! roll a failed transaction back, so no rollback is simulated here).

use cosmwasm_std::{
    Addr, Binary, Checksum, ContractResult, Empty, MessageInfo, Order, Record, Response,
};
use cosmwasm_vm::internals::{check_wasm, compile, make_compiling_engine, LogOutput, Logger};
use cosmwasm_vm::testing::{mock_env, MockApi, MockQuerier, MockStorage};
use cosmwasm_vm::{
    call_execute, call_instantiate, call_query, capabilities_from_csv, Backend, BackendResult,
    Cache, CacheOptions, GasInfo, InstanceOptions, Size, Storage, WasmLimits,
};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

mod polycommit;

/// wasmd's `DefaultGasMultiplier`: CosmWasm gas per SDK gas.
const GAS_MULTIPLIER: u64 = 140_000;
/// wasmd's `DefaultInstanceCost`: SDK gas per call to a contract that is
/// not pinned in memory.
const INSTANCE_COST: u64 = 60_000;
/// wasmd's default memory limit per instance.
const MEMORY_LIMIT_MIB: u32 = 32;
/// A gas limit high enough to measure anything (3 × 10⁹ SDK gas).
const GAS_LIMIT: u64 = 3_000_000_000 * GAS_MULTIPLIER;
/// `cosmwasm-check` 3.0.11's default capabilities.
const CAPABILITIES: &str = "ibc2,iterator,staking,stargate,cosmwasm_1_1,cosmwasm_1_2,\
    cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1,cosmwasm_2_2,cosmwasm_3_0";
/// The issue's targets, in SDK gas and milliseconds.
const TARGET_SUBMIT_GAS: u64 = 2_500_000;
const TARGET_SUBMIT_MS: f64 = 400.0;
const TARGET_REGISTER_GAS: u64 = 10_000_000;
const TARGET_PARAMS_GAS: u64 = 10_000_000;
/// Budgets are written this much above a blessed measurement: the gas of
/// one module is deterministic, so this is room for small code changes.
const BLESS_MARGIN: f64 = 1.10;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("check") if args.len() == 2 => check(Path::new(&args[1])),
        Some("run") if args.len() >= 2 => {
            let mut fixtures = None;
            let mut budgets = None;
            let mut bless = false;
            let mut polycommit = false;
            let mut rest = args[2..].iter();
            while let Some(a) = rest.next() {
                match a.as_str() {
                    "--fixtures" => fixtures = rest.next().map(PathBuf::from),
                    "--budgets" => budgets = rest.next().map(PathBuf::from),
                    "--bless" => bless = true,
                    "--scenario" => match rest.next().map(String::as_str) {
                        Some("polycommit") => polycommit = true,
                        Some("fixed") => polycommit = false,
                        other => return usage(&format!("unknown scenario {other:?}")),
                    },
                    other => return usage(&format!("unknown argument {other}")),
                }
            }
            match (fixtures, budgets) {
                (Some(f), Some(b)) => run(Path::new(&args[1]), &f, &b, bless, polycommit),
                _ => return usage("run needs --fixtures and --budgets"),
            }
        }
        _ => return usage("no command"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zkinfer-wasm-vm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "zkinfer-wasm-vm: {why}\nusage: zkinfer-wasm-vm check MODULE.wasm\n       \
         zkinfer-wasm-vm run MODULE.wasm [--scenario fixed|polycommit] --fixtures DIR \
         --budgets FILE [--bless]"
    );
    ExitCode::from(2)
}

type Result<T> = std::result::Result<T, String>;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// What `cosmwasm-check` does: the static checks, then a compile.
fn check(module: &Path) -> Result<()> {
    let wasm = read(module)?;
    check_wasm(
        &wasm,
        &capabilities_from_csv(CAPABILITIES),
        &WasmLimits::default(),
        Logger::with_config(LogOutput::StdErr, "  "),
    )
    .map_err(|e| {
        format!(
            "{}: refused by the VM's static checks: {e}",
            module.display()
        )
    })?;
    let engine = make_compiling_engine(None, None);
    compile(&engine, &wasm).map_err(|e| format!("{}: does not compile: {e}", module.display()))?;
    eprintln!(
        "check: {} passes cosmwasm-vm 3.0.11's static checks and compiles",
        module.display()
    );
    Ok(())
}

/// The Cosmos SDK's default KV gas (`storetypes.KVGasConfig`), in SDK gas,
/// on keys as wasmd stores them: under the prefix `0x03` and the contract's
/// 32-byte address.
struct KvGas;

impl KvGas {
    const PREFIX: u64 = 33;
    fn read(key: usize, value: usize) -> u64 {
        1_000 + 3 * (Self::PREFIX + key as u64) + 3 * value as u64
    }
    fn has() -> u64 {
        1_000
    }
    fn write(key: usize, value: usize) -> u64 {
        2_000 + 30 * (Self::PREFIX + key as u64) + 30 * value as u64
    }
    fn delete() -> u64 {
        1_000
    }
    fn iter_next(key: usize, value: usize) -> u64 {
        30 + 3 * (Self::PREFIX + key as u64) + 3 * value as u64
    }
}

/// The VM's mock storage, charging SDK KV gas as wasmd does (externally,
/// in CosmWasm gas) and counting it for the report.
struct ChainStorage {
    inner: MockStorage,
    kv_gas: Arc<AtomicU64>,
}

impl ChainStorage {
    fn charge<T>(&self, sdk_gas: u64, result: BackendResult<T>) -> BackendResult<T> {
        self.kv_gas.fetch_add(sdk_gas, Ordering::Relaxed);
        (
            result.0,
            GasInfo::with_externally_used(sdk_gas * GAS_MULTIPLIER),
        )
    }

    /// Every key and value, in order.
    fn snapshot(&mut self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let id = self.inner.scan(None, None, Order::Ascending).0.unwrap();
        self.inner.all(id).0.unwrap().into_iter().collect()
    }
}

impl Storage for ChainStorage {
    fn get(&self, key: &[u8]) -> BackendResult<Option<Vec<u8>>> {
        let r = self.inner.get(key);
        let gas = match &r.0 {
            Ok(Some(v)) => KvGas::read(key.len(), v.len()),
            _ => KvGas::has(),
        };
        self.charge(gas, r)
    }
    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: Order,
    ) -> BackendResult<u32> {
        let r = self.inner.scan(start, end, order);
        self.charge(0, r)
    }
    fn next(&mut self, iterator_id: u32) -> BackendResult<Option<Record>> {
        let r = self.inner.next(iterator_id);
        let gas = match &r.0 {
            Ok(Some((k, v))) => KvGas::iter_next(k.len(), v.len()),
            _ => 30,
        };
        self.charge(gas, r)
    }
    fn set(&mut self, key: &[u8], value: &[u8]) -> BackendResult<()> {
        let r = self.inner.set(key, value);
        self.charge(KvGas::write(key.len(), value.len()), r)
    }
    fn remove(&mut self, key: &[u8]) -> BackendResult<()> {
        let r = self.inner.remove(key);
        self.charge(KvGas::delete(), r)
    }
}

type Vm = Cache<MockApi, ChainStorage, MockQuerier>;

/// One message's measurements.
struct Measure {
    name: String,
    bytes: usize,
    vm_gas: u64,
    kv_gas: u64,
    ms: f64,
    /// The contract's own estimate (`zkinfer_gas`), for registrations and
    /// submissions.
    estimate: Option<u64>,
}

impl Measure {
    /// SDK gas as wasmd charges it: the VM's gas (storage included) ÷
    /// 140,000, plus the instance cost.
    fn sdk_gas(&self) -> u64 {
        self.vm_gas.div_ceil(GAS_MULTIPLIER) + INSTANCE_COST
    }
}

enum Call<'a> {
    Instantiate(&'a [u8]),
    Execute(&'a [u8]),
    Query(&'a [u8]),
}

struct Chain {
    vm: Vm,
    checksum: Checksum,
    backend: Option<Backend<MockApi, ChainStorage, MockQuerier>>,
    kv_gas: Arc<AtomicU64>,
    admin: Addr,
    user: Addr,
    measures: Vec<Measure>,
    passed: usize,
    failed: Vec<String>,
}

/// What a call returned: the contract's answer or its refusal.
type Outcome = std::result::Result<Value, String>;

impl Chain {
    /// Sends one message to a fresh instance; returns the contract's answer
    /// (a response's data and attributes as JSON, or a query's answer).
    fn call(&mut self, name: &str, sender: &Addr, call: Call) -> Result<Outcome> {
        let backend = self
            .backend
            .take()
            .expect("the backend is returned after every call");
        let mut instance = self
            .vm
            .get_instance(
                &self.checksum,
                backend,
                InstanceOptions {
                    gas_limit: GAS_LIMIT,
                },
            )
            .map_err(|e| format!("{name}: no instance: {e}"))?;
        let kv_before = self.kv_gas.load(Ordering::Relaxed);
        let gas_before = instance.get_gas_left();
        let env = mock_env();
        let info = MessageInfo {
            sender: sender.clone(),
            funds: vec![],
        };
        let started = Instant::now();
        let (outcome, bytes) = match call {
            Call::Instantiate(msg) => (
                response(call_instantiate::<_, _, _, Empty>(
                    &mut instance,
                    &env,
                    &info,
                    msg,
                )),
                msg.len(),
            ),
            Call::Execute(msg) => (
                response(call_execute::<_, _, _, Empty>(
                    &mut instance,
                    &env,
                    &info,
                    msg,
                )),
                msg.len(),
            ),
            Call::Query(msg) => (
                match call_query(&mut instance, &env, msg) {
                    Ok(ContractResult::Ok(bin)) => Ok(Ok(serde_json::from_slice(bin.as_slice())
                        .map_err(|e| {
                        format!("{name}: the answer is not JSON: {e}")
                    })?)),
                    Ok(ContractResult::Err(e)) => Ok(Err(e)),
                    Err(e) => Err(format!("{name}: the VM failed: {e}")),
                },
                msg.len(),
            ),
        };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let vm_gas = gas_before - instance.get_gas_left();
        self.backend = instance.recycle();
        let outcome = outcome?;
        let estimate = outcome
            .as_ref()
            .ok()
            .and_then(|v| v["attributes"]["zkinfer_gas"].as_str())
            .and_then(|g| g.parse().ok())
            .filter(|&g| g > 0);
        self.measures.push(Measure {
            estimate,
            name: name.to_string(),
            bytes,
            vm_gas,
            kv_gas: self.kv_gas.load(Ordering::Relaxed) - kv_before,
            ms,
        });
        Ok(outcome)
    }

    fn storage(&mut self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.backend.as_mut().unwrap().storage.snapshot()
    }

    fn expect(&mut self, ok: bool, what: String) {
        if ok {
            self.passed += 1;
            eprintln!("  ok    {what}");
        } else {
            eprintln!("  FAIL  {what}");
            self.failed.push(what);
        }
    }

    /// An execute message that must succeed.
    fn accept(&mut self, name: &str, sender: &Addr, msg: &[u8]) -> Result<Value> {
        let sender = sender.clone();
        match self.call(name, &sender, Call::Execute(msg))? {
            Ok(v) => {
                self.expect(true, format!("{name}: accepted"));
                Ok(v)
            }
            Err(e) => {
                self.expect(false, format!("{name}: refused ({e})"));
                Ok(Value::Null)
            }
        }
    }

    /// An execute message that must be refused with an error containing
    /// `because`, leaving the storage unchanged.
    fn refuse(&mut self, name: &str, sender: &Addr, msg: &[u8], because: &str) -> Result<()> {
        self.refuse_call(name, sender, Call::Execute(msg), because)
    }

    fn refuse_call(&mut self, name: &str, sender: &Addr, call: Call, because: &str) -> Result<()> {
        let sender = sender.clone();
        let before = self.storage();
        let outcome = self.call(name, &sender, call)?;
        let unchanged = self.storage() == before;
        match outcome {
            Ok(_) => self.expect(false, format!("{name}: accepted, must be refused")),
            Err(e) => self.expect(
                e.contains(because),
                format!("{name}: refused ({e}), expected \"{because}\""),
            ),
        }
        self.expect(unchanged, format!("{name}: storage unchanged"));
        Ok(())
    }

    fn query(&mut self, name: &str, msg: &Value) -> Result<Outcome> {
        let user = self.user.clone();
        let text = serde_json::to_vec(msg).unwrap();
        let before = self.storage();
        let outcome = self.call(name, &user, Call::Query(&text))?;
        let unchanged = self.storage() == before;
        self.expect(unchanged, format!("{name}: storage unchanged"));
        Ok(outcome)
    }
}

/// A response as JSON: its attributes, events and data (parsed as JSON).
fn response(r: cosmwasm_vm::VmResult<ContractResult<Response>>) -> Result<Outcome> {
    match r {
        Ok(ContractResult::Ok(resp)) => {
            let data = match &resp.data {
                Some(bin) => serde_json::from_slice(bin.as_slice())
                    .map_err(|e| format!("response data is not JSON: {e}"))?,
                None => Value::Null,
            };
            let attrs: BTreeMap<String, String> = resp
                .attributes
                .iter()
                .map(|a| (a.key.clone(), a.value.clone()))
                .collect();
            let events: Vec<String> = resp.events.iter().map(|e| e.ty.clone()).collect();
            Ok(Ok(
                json!({ "data": data, "attributes": attrs, "events": events }),
            ))
        }
        Ok(ContractResult::Err(e)) => Ok(Err(e)),
        Err(e) => Err(format!("the VM failed: {e}")),
    }
}

fn fixture_json(dir: &Path, name: &str) -> Result<Value> {
    serde_json::from_slice(&read(&dir.join(name))?).map_err(|e| format!("{name}: {e}"))
}

fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The upload of `bytes` for `k`, in `n` chunks.
fn upload_messages(k: u64, bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
    let size = bytes.len().div_ceil(n);
    let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            to_vec(&json!({ "upload_params": {
                "k": k, "chunk": i, "data": Binary::from(*c).to_base64(),
                "last": i + 1 == chunks.len(),
            }}))
        })
        .collect()
}

/// A submission's proof bytes (base64 in the bundle).
fn proof_of(msg: &Value) -> Vec<u8> {
    let text = msg["submit_inference"]["proof_bundle"]["proof"]
        .as_str()
        .expect("a bundle's proof is text");
    Binary::from_base64(text)
        .expect("a bundle's proof is base64")
        .to_vec()
}

/// A submission with other proof bytes.
fn with_proof(msg: &Value, proof: &[u8]) -> Value {
    let mut changed = msg.clone();
    changed["submit_inference"]["proof_bundle"]["proof"] =
        Value::String(Binary::from(proof).to_base64());
    changed
}

/// A submission with one bit of its proof flipped.
fn tamper_proof(msg: &Value) -> Value {
    let mut proof = proof_of(msg);
    let i = proof.len() / 2;
    proof[i] ^= 1;
    with_proof(msg, &proof)
}

fn run(
    module: &Path,
    fixtures: &Path,
    budgets_path: &Path,
    bless: bool,
    polycommit: bool,
) -> Result<()> {
    let wasm = read(module)?;
    let cache_dir = std::env::temp_dir().join(format!("zkinfer-wasm-vm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache_dir);
    let options = CacheOptions::new(
        &cache_dir,
        capabilities_from_csv(CAPABILITIES),
        Size::mebi(64),
        Size::mebi(MEMORY_LIMIT_MIB as usize),
    );
    // SAFETY: the cache's folder is new and ours alone.
    let vm: Vm = unsafe { Cache::new(options) }.map_err(|e| format!("cache: {e}"))?;
    let stored = Instant::now();
    let checksum = vm
        .store_code(&wasm, true, true)
        .map_err(|e| format!("storing the code (checked, as wasmd's upload): {e}"))?;
    let report = vm.analyze(&checksum).map_err(|e| e.to_string())?;
    eprintln!(
        "vm: stored and compiled {} B in {:.0} ms; it requires capabilities {:?}",
        wasm.len(),
        stored.elapsed().as_secs_f64() * 1e3,
        report.required_capabilities
    );
    let api = MockApi::default();
    let kv_gas = Arc::new(AtomicU64::new(0));
    let mut chain = Chain {
        vm,
        checksum,
        backend: Some(Backend {
            api: api.clone(),
            storage: ChainStorage {
                inner: MockStorage::new(),
                kv_gas: kv_gas.clone(),
            },
            querier: MockQuerier::new(&[]),
        }),
        kv_gas,
        admin: Addr::unchecked(api.addr_make("admin")),
        user: Addr::unchecked(api.addr_make("user")),
        measures: vec![],
        passed: 0,
        failed: vec![],
    };
    let result = match polycommit {
        true => polycommit::scenario(&mut chain, fixtures),
        false => scenario(&mut chain, fixtures),
    };
    let _ = std::fs::remove_dir_all(&cache_dir);
    let estimated = result?;
    report_and_check(&mut chain, budgets_path, bless, estimated)
}

/// The default module's scenario; returns how many messages must report
/// `zkinfer_gas`.
fn scenario(c: &mut Chain, fixtures: &Path) -> Result<usize> {
    let admin = c.admin.clone();
    let user = c.user.clone();

    // The registrations say which models and k the scenario needs.
    let models = ["digits-mlp", "digits-cnn"];
    let mut registers = vec![];
    for m in models {
        registers.push(fixture_json(fixtures, &format!("register-{m}.json"))?);
    }
    let id = |r: &Value| {
        r["register_model"]["verifier_key"]["vk_digest"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let ks: std::collections::BTreeSet<u64> = registers
        .iter()
        .map(|r| {
            r["register_model"]["verifier_key"]["k"]
                .as_u64()
                .unwrap_or(0)
        })
        .collect();

    eprintln!("vm: scenario");
    let init = to_vec(&json!({ "admin": admin.as_str() }));
    let outcome = c.call("instantiate", &admin, Call::Instantiate(&init))?;
    c.expect(outcome.is_ok(), format!("instantiate: {outcome:?}"));

    c.refuse_call(
        "refused: instantiate again",
        &admin,
        Call::Instantiate(&init),
        "already instantiated",
    )?;

    // Registration before the parameters are uploaded.
    c.refuse(
        "refused: register before params",
        &admin,
        &to_vec(&registers[0]),
        "no IPA parameters for k",
    )?;

    for &k in &ks {
        let params = read(&fixtures.join(format!("params-k{k}.bin")))?;
        // A copy with one flipped bit: every chunk but the last is stored
        // (an upload in progress), the last is refused by the pinned
        // digest, and nothing of it is completed.
        let mut flipped = params.clone();
        let bit = 8 * (flipped.len() / 2) + 3;
        flipped[bit / 8] ^= 1 << (bit % 8);
        let bad = upload_messages(k, &flipped, 3);
        for (i, msg) in bad.iter().enumerate() {
            if i + 1 < bad.len() {
                c.accept(
                    &format!("upload flipped params k={k} chunk {i}"),
                    &admin,
                    msg,
                )?;
            } else {
                c.refuse(
                    &format!("refused: flipped-bit params k={k} last chunk"),
                    &admin,
                    msg,
                    "the uploaded IPA parameters are refused",
                )?;
            }
        }
        let good = upload_messages(k, &params, 3);
        c.refuse(
            &format!("refused: params k={k} from a non-admin"),
            &user,
            &good[0],
            "unauthorized",
        )?;
        let mut skip: Value = serde_json::from_slice(&good[1]).unwrap();
        skip["upload_params"]["chunk"] = json!(7);
        c.refuse(
            &format!("refused: params k={k} chunk out of order"),
            &admin,
            &to_vec(&skip),
            "the next chunk is 2",
        )?;
        for (i, msg) in good.iter().enumerate() {
            c.accept(
                &format!("upload params k={k} chunk {i}/{}", good.len()),
                &admin,
                msg,
            )?;
        }
        c.refuse(
            &format!("refused: params k={k} again"),
            &admin,
            &good[0],
            "are stored already",
        )?;
    }

    for (m, r) in models.iter().zip(&registers) {
        c.refuse(
            &format!("refused: register {m} from a non-admin"),
            &user,
            &to_vec(r),
            "unauthorized",
        )?;
        let resp = c.accept(&format!("register {m}"), &admin, &to_vec(r))?;
        let events = resp["events"].to_string();
        c.expect(
            events.contains("zkinfer_register"),
            format!("register {m}: emits zkinfer_register ({events})"),
        );
    }
    c.refuse(
        "refused: register digits-mlp again",
        &admin,
        &to_vec(&registers[0]),
        "is already registered",
    )?;
    // A declared key that is not the model's: the key is rebuilt, then
    // refused.
    let mut wrong = registers[1].clone();
    wrong["register_model"]["verifier_key"]["vk_digest"] = Value::String("ab".repeat(32));
    c.refuse(
        "refused: register with a wrong vk digest",
        &admin,
        &to_vec(&wrong),
        "the rebuilt verifying key is",
    )?;

    // Valid submissions.
    let submits = [
        ("digits-mlp a", "submit-digits-mlp-a.json"),
        ("digits-mlp b", "submit-digits-mlp-b.json"),
        ("digits-cnn a", "submit-digits-cnn-a.json"),
    ];
    let mut attested = vec![];
    for (label, file) in submits {
        let msg = fixture_json(fixtures, file)?;
        let resp = c.accept(&format!("submit {label}"), &user, &to_vec(&msg))?;
        let bundle = &msg["submit_inference"]["proof_bundle"];
        c.expect(
            resp["data"]["output"] == bundle["output"]["values"]
                && resp["data"]["submitter"] == Value::String(user.to_string()),
            format!("submit {label}: the attestation holds the proven output and the submitter"),
        );
        attested.push((label, msg, resp["data"].clone()));
    }

    // Forgeries of a valid proof not yet attested.
    let forge = fixture_json(fixtures, "submit-digits-mlp-forge.json")?;
    c.refuse(
        "refused: forged proof bytes",
        &user,
        &to_vec(&tamper_proof(&forge)),
        "invalid proof",
    )?;
    let mut output = forge.clone();
    let v = output["submit_inference"]["proof_bundle"]["output"]["values"][2]
        .as_i64()
        .unwrap();
    output["submit_inference"]["proof_bundle"]["output"]["values"][2] = json!(v + 1);
    c.refuse(
        "refused: forged output",
        &user,
        &to_vec(&output),
        "invalid proof",
    )?;
    let mut input = forge.clone();
    let v = input["submit_inference"]["proof_bundle"]["input"]["values"][20]
        .as_i64()
        .unwrap();
    input["submit_inference"]["proof_bundle"]["input"]["values"][20] = json!(v + 1);
    c.refuse(
        "refused: forged input",
        &user,
        &to_vec(&input),
        "invalid proof",
    )?;

    // Replays.
    let (_, first, _) = &attested[0];
    c.refuse(
        "refused: replay (same proof)",
        &user,
        &to_vec(first),
        "replay: same proof",
    )?;
    // Another proof of the same statement (here: changed bytes; refused
    // before any verification).
    let again = tamper_proof(first);
    c.refuse(
        "refused: replay (same model and input)",
        &user,
        &to_vec(&again),
        "replay: same model and input",
    )?;

    // Wrong model: the CNN's proof sent to the MLP, and an unknown model.
    let cnn = &attested[2].1;
    let mut wrong_model = cnn.clone();
    wrong_model["submit_inference"]["model_id"] = Value::String(id(&registers[0]));
    c.refuse(
        "refused: proof for another model",
        &user,
        &to_vec(&wrong_model),
        "is for model",
    )?;
    let mut unknown = forge.clone();
    unknown["submit_inference"]["model_id"] = Value::String("cd".repeat(32));
    c.refuse(
        "refused: unknown model",
        &user,
        &to_vec(&unknown),
        "unknown model",
    )?;

    // Malformed messages.
    c.refuse(
        "refused: not JSON",
        &user,
        b"{\"submit_inference\":",
        "EOF while parsing",
    )?;
    c.refuse(
        "refused: unknown message",
        &user,
        &to_vec(&json!({ "mint": {} })),
        "unknown variant",
    )?;
    let mut no_proof = forge.clone();
    no_proof["submit_inference"]["proof_bundle"]
        .as_object_mut()
        .unwrap()
        .remove("proof");
    c.refuse(
        "refused: bundle without a proof",
        &user,
        &to_vec(&no_proof),
        "missing field `proof`",
    )?;
    let proof = proof_of(&forge);
    let short = with_proof(&forge, &proof[..proof.len() - 32]);
    c.refuse(
        "refused: truncated proof",
        &user,
        &to_vec(&short),
        "the proof ends early",
    )?;
    let mut longer = proof.clone();
    longer.push(0);
    c.refuse(
        "refused: proof with a byte appended",
        &user,
        &to_vec(&with_proof(&forge, &longer)),
        "1 bytes after its end",
    )?;
    let mut garbled = forge.clone();
    garbled["submit_inference"]["proof_bundle"]["proof"] = Value::String("!!".repeat(50));
    c.refuse(
        "refused: proof not decodable",
        &user,
        &to_vec(&garbled),
        "malformed proof bundle",
    )?;
    let mut fewer = forge.clone();
    fewer["submit_inference"]["proof_bundle"]["output"]["values"]
        .as_array_mut()
        .unwrap()
        .pop();
    c.refuse(
        "refused: output of the wrong shape",
        &user,
        &to_vec(&fewer),
        "public inputs do not match",
    )?;

    // The forgeries' proof, intact, was valid all along.
    c.accept("submit digits-mlp forge (intact)", &user, &to_vec(&forge))?;

    // Every query.
    let mlp = id(&registers[0]);
    let cnn_id = id(&registers[1]);
    let q = c.query("query config", &json!({ "config": {} }))?;
    c.expect(
        q.as_ref()
            .is_ok_and(|v| v["config"]["admin"] == Value::String(admin.to_string())),
        format!("query config: the admin ({q:?})"),
    );
    let q = c.query("query models", &json!({ "models": {} }))?;
    let n = q
        .as_ref()
        .ok()
        .and_then(|v| v["models"].as_array().map(Vec::len));
    c.expect(n == Some(2), format!("query models: two models ({q:?})"));
    for (m, model_id) in [("digits-mlp", &mlp), ("digits-cnn", &cnn_id)] {
        let q = c.query(
            &format!("query model {m}"),
            &json!({ "model": { "model_id": model_id } }),
        )?;
        c.expect(
            q.as_ref().is_ok_and(|v| v["model"]["name"] == json!(m)),
            format!("query model {m}: found"),
        );
    }
    let q = c.query("query params", &json!({ "params": {} }))?;
    c.expect(
        q.as_ref().is_ok_and(|v| {
            v["params"].as_array().is_some_and(|a| {
                a.len() == ks.len() && a.iter().all(|p| p["complete"] == json!(true))
            })
        }),
        format!("query params: every k complete ({q:?})"),
    );
    let q = c.query(
        "query attestation 0",
        &json!({ "attestation": { "seq": 0 } }),
    )?;
    c.expect(
        q.as_ref().is_ok_and(|v| v["attestation"] == attested[0].2),
        "query attestation 0: the first submission's".into(),
    );
    let q = c.query(
        "query attestations digits-mlp",
        &json!({ "attestations": { "model_id": mlp, "start_after": null, "limit": 10 } }),
    )?;
    let n = q
        .as_ref()
        .ok()
        .and_then(|v| v["attestations"].as_array().map(Vec::len));
    c.expect(
        n == Some(3),
        format!("query attestations digits-mlp: three ({n:?})"),
    );
    for (label, _, data) in &attested {
        let q = c.query(
            &format!("query output {label}"),
            &json!({ "output": { "model_id": data["model_id"], "input_digest": data["input_digest"] } }),
        )?;
        c.expect(
            q.as_ref().is_ok_and(|v| v["attestation"] == *data),
            format!("query output {label}: its attestation"),
        );
    }
    let q = c.query(
        "query unknown model",
        &json!({ "model": { "model_id": "ef".repeat(32) } }),
    )?;
    c.expect(
        q.as_ref().is_err_and(|e| e.contains("unknown model")),
        format!("query unknown model: refused ({q:?})"),
    );

    // Retirement: the CNN takes no new proofs afterwards.
    let retire = json!({ "retire_model": { "model_id": cnn_id, "reason": "VM test" } });
    c.accept("retire digits-cnn", &admin, &to_vec(&retire))?;
    c.refuse(
        "refused: submit to a retired model",
        &user,
        &to_vec(&attested[2].1),
        "was retired",
    )?;
    // Two registrations and four submissions report their gas.
    Ok(6)
}

/// Budgets: the most SDK gas each message may cost.
fn report_and_check(
    c: &mut Chain,
    budgets_path: &Path,
    bless: bool,
    expected_estimates: usize,
) -> Result<()> {
    eprintln!();
    println!(
        "{:<46} {:>8} {:>18} {:>12} {:>11} {:>9}",
        "message", "bytes", "VM gas", "SDK gas", "of it KV", "VM ms"
    );
    for m in &c.measures {
        println!(
            "{:<46} {:>8} {:>18} {:>12} {:>11} {:>9.1}",
            m.name,
            m.bytes,
            m.vm_gas,
            m.sdk_gas(),
            m.kv_gas,
            m.ms
        );
    }
    println!("(SDK gas = VM gas ÷ {GAS_MULTIPLIER} + {INSTANCE_COST} per call; VM gas includes the KV store's gas, as in wasmd; tx-size gas not included)");

    // Per k: the whole upload of the parameters (the accepted chunks).
    let mut per_k: BTreeMap<String, u64> = BTreeMap::new();
    for m in &c.measures {
        if let Some(rest) = m.name.strip_prefix("upload params ") {
            let k = rest.split(' ').next().unwrap_or_default().to_string();
            *per_k.entry(k).or_default() += m.sdk_gas();
        }
    }
    for (k, gas) in &per_k {
        println!("params upload {k}: {gas} SDK gas in all");
    }

    // The contract's own estimate (gas::SCHEDULE) is calibrated against the
    // VM: never below what a registration or a submission costs, and at
    // most a quarter above.
    let mut calibration = vec![];
    for m in &c.measures {
        if let Some(estimate) = m.estimate {
            let ok = estimate >= m.sdk_gas() && estimate as f64 <= 1.25 * m.sdk_gas() as f64;
            println!(
                "estimate {}: zkinfer_gas {estimate} for {} SDK gas ({:+.1} %)",
                m.name,
                m.sdk_gas(),
                (estimate as f64 / m.sdk_gas() as f64 - 1.0) * 100.0
            );
            calibration.push((
                ok,
                format!(
                    "{}: zkinfer_gas {estimate} within [measured, measured × 1.25]",
                    m.name
                ),
            ));
        }
    }
    let estimated = calibration.len();
    for (ok, what) in calibration {
        c.expect(ok, what);
    }
    c.expect(
        estimated == expected_estimates,
        format!("{estimated} messages report zkinfer_gas ({expected_estimates} expected)"),
    );

    // The issue's targets.
    let mut targets = vec![];
    for m in &c.measures {
        if m.name.starts_with("submit ") {
            targets.push((m.name.clone(), m.sdk_gas(), TARGET_SUBMIT_GAS, Some(m.ms)));
        } else if m.name.starts_with("register ") {
            targets.push((m.name.clone(), m.sdk_gas(), TARGET_REGISTER_GAS, None));
        }
    }
    for (k, gas) in &per_k {
        targets.push((format!("params upload {k}"), *gas, TARGET_PARAMS_GAS, None));
    }
    for (name, gas, target, ms) in &targets {
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        let time = ms
            .map(|ms| {
                format!(
                    "; time {} ({ms:.0} ≤ {TARGET_SUBMIT_MS:.0} ms)",
                    verdict(ms <= TARGET_SUBMIT_MS)
                )
            })
            .unwrap_or_default();
        println!(
            "target {name}: gas {} ({gas} ≤ {target} SDK gas){time}",
            verdict(gas <= target)
        );
    }

    if bless {
        let budgets: BTreeMap<&str, u64> = c
            .measures
            .iter()
            .map(|m| {
                let budget = (m.sdk_gas() as f64 * BLESS_MARGIN / 1000.0).ceil() as u64 * 1000;
                (m.name.as_str(), budget)
            })
            .collect();
        let text = serde_json::to_string_pretty(&json!({
            "_comment": "Most SDK gas (VM gas / 140,000 + 60,000) each message of the VM scenario may cost; written by `make wasm-bless` 10 % above a measurement",
            "sdk_gas": budgets,
        }))
        .unwrap();
        std::fs::write(budgets_path, text + "\n").map_err(|e| e.to_string())?;
        eprintln!("vm: wrote {}", budgets_path.display());
    } else {
        let budgets: Value = serde_json::from_slice(&read(budgets_path)?)
            .map_err(|e| format!("{}: {e}", budgets_path.display()))?;
        let budgets = budgets["sdk_gas"].as_object().cloned().unwrap_or_default();
        let names: HashSet<&str> = c.measures.iter().map(|m| m.name.as_str()).collect();
        let mut results = vec![];
        for m in &c.measures {
            match budgets.get(&m.name).and_then(Value::as_u64) {
                Some(b) => results.push((
                    m.sdk_gas() <= b,
                    format!(
                        "{}: {} SDK gas within its budget of {b}",
                        m.name,
                        m.sdk_gas()
                    ),
                )),
                None => results.push((false, format!("{}: no budget (make wasm-bless)", m.name))),
            }
        }
        for name in budgets.keys() {
            if !names.contains(name.as_str()) {
                results.push((false, format!("{name}: budgeted but not run")));
            }
        }
        for (ok, what) in results {
            c.expect(ok, what);
        }
    }

    println!("{} passed, {} failed", c.passed, c.failed.len());
    if c.failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed:\n  {}", c.failed.join("\n  ")))
    }
}
