//! The whole market with real processes: a `commons-node --dev`, `commons-worker` daemons running
//! the real SmolLM2 model (on the CPU and on wgpu: a GPU, or Mesa lavapipe where there is none),
//! and the `commons` CLI as a requester uses it.

mod common;

use std::time::Duration;

use commons_runtime::currency::UNIT;

use common::{
	free_port,
	market::{
		amount, fees_paid, free, gateway_client, generate_key, infer_paris, json, metric,
		models_dir, one_at_a_time, run, scrape_metrics, start_node, temp_dir, text, wait_for_node,
		GatewayProcess, Relay, WorkerProcess, TIMEOUT,
	},
	NodeProcess,
};

#[test]
fn three_honest_workers_on_cpu_and_wgpu_agree_and_the_receipt_matches_the_balances() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();
	let dir = temp_dir("honest");
	let workers = [
		WorkerProcess::start(url, &dir, "cpu-a", "cpu"),
		// Keys by role: registered with its own key, run by an operator key.
		WorkerProcess::start_operated(url, &dir, "cpu-b", "cpu"),
		WorkerProcess::start(url, &dir, "gpu", "gpu"),
	];
	let before_requester = free(url, "//Alice");
	let before: Vec<u128> = workers.iter().map(|worker| free(url, &worker.address)).collect();
	let before_payers: Vec<u128> =
		workers.iter().map(|worker| free(url, &worker.fee_payer)).collect();

	let output = infer_paris(url, "3");
	if !output.status.success() {
		let logs: Vec<String> = workers.iter().map(WorkerProcess::output).collect();
		panic!("{}\nworkers:\n{}\nnode:\n{}", text(&output), logs.join("\n----\n"), node.output());
	}
	let receipt = json(&output);
	assert_eq!(receipt["outcome"], "accepted", "{receipt}");
	let answer = receipt["text"].as_str().unwrap_or_default();
	assert!(answer.contains("Paris"), "{receipt}");
	let agreeing: Vec<&str> = receipt["agreeing_workers"]
		.as_array()
		.unwrap()
		.iter()
		.map(|w| w.as_str().unwrap())
		.collect();
	for worker in &workers {
		assert!(
			agreeing.contains(&worker.address.as_str()),
			"{} in {receipt}\nits log:\n{}",
			worker.address,
			worker.output()
		);
	}

	// The requester: escrow and deposit held, the transaction fee paid, unused escrow refunded.
	let (escrow, deposit, tx_fee) = (
		amount(&receipt["escrow"]),
		amount(&receipt["deposit_held"]),
		amount(&receipt["transaction_fee"]),
	);
	let (paid, fee, refunded) =
		(amount(&receipt["paid"]), amount(&receipt["fee"]), amount(&receipt["refunded"]));
	assert_eq!(escrow, paid + fee + refunded, "{receipt}");
	let after_requester = free(url, "//Alice");
	assert_eq!(
		before_requester - after_requester,
		escrow + deposit + tx_fee - refunded,
		"requester balance change vs receipt {receipt}"
	);
	assert_eq!(
		amount(&receipt["balance_before"]) - amount(&receipt["balance_after"]),
		escrow + deposit + tx_fee - refunded
	);

	// Each worker: its share of the payment, less the fees of its commit and reveal (paid by
	// its operator key's account where it has one).
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let (posted, settled) = (
		receipt["posted_block"].as_u64().unwrap() as u32,
		receipt["settled_block"].as_u64().unwrap() as u32,
	);
	let share = paid / workers.len() as u128;
	for ((worker, before), before_payer) in workers.iter().zip(before).zip(before_payers) {
		let fees = runtime.block_on(fees_paid(url, &worker.fee_payer, posted, settled));
		assert!(fees > 0, "the worker paid for its commit and reveal");
		let after = free(url, &worker.address);
		if worker.fee_payer == worker.address {
			assert_eq!(after + fees, before + share, "{}: {}", worker.address, worker.output());
		} else {
			assert_eq!(after, before + share, "{}: {}", worker.address, worker.output());
			assert_eq!(free(url, &worker.fee_payer) + fees, before_payer, "{}", worker.fee_payer);
		}
	}

	// The operator key can serve and nothing more: unbonding or moving the worker's funds
	// through it is filtered out, and nothing moves.
	let operated = &workers[1];
	let operator_seed = std::fs::read_to_string(dir.join("cpu-b-operator.key")).unwrap();
	let operator =
		commons_testing::Keypair::from_uri(operator_seed.trim(), commons_testing::Scheme::Ed25519)
			.unwrap();
	let stash = commons_testing::keys::parse_account(&operated.address).unwrap();
	let stash_key = dir.join("cpu-b.key");
	let bonded = || {
		let status =
			run("commons-worker", url, &["--json", "status", "--key", stash_key.to_str().unwrap()]);
		amount(&json(&status)["bonded"])
	};
	let bonded_before = bonded();
	for forbidden in [
		commons_runtime::RuntimeCall::Workers(pallet_workers::Call::unbond { amount: 500 * UNIT }),
		commons_runtime::RuntimeCall::Balances(pallet_balances::Call::transfer_allow_death {
			dest: operator.account_id().into(),
			value: 10 * UNIT,
		}),
	] {
		let through_operator = commons_runtime::RuntimeCall::Proxy(pallet_proxy::Call::proxy {
			real: stash.clone().into(),
			force_proxy_type: None,
			call: Box::new(forbidden),
		});
		let node = runtime.block_on(commons_testing::Node::connect(url)).unwrap();
		let included =
			runtime.block_on(node.sign_and_submit(through_operator, &operator, TIMEOUT)).unwrap();
		let refused = included.events.iter().any(|event| {
			matches!(
				event,
				commons_runtime::RuntimeEvent::Proxy(pallet_proxy::Event::ProxyExecuted {
					result: Err(error)
				}) if commons_testing::rpc::describe_dispatch_error(*error).contains("CallFiltered")
			)
		});
		assert!(refused, "{:?}", included.events);
	}
	assert_eq!(bonded(), bonded_before, "the stake did not move");

	// The job as stored: accepted, every seat revealed the accepted hash.
	let job = receipt["job"].as_u64().unwrap().to_string();
	let shown = json(&run("commons", url, &["--json", "job", "show", &job]));
	assert_eq!(shown["status"], "accepted");
	assert_eq!(shown["output_hash"], receipt["output_hashes"][0]);
	assert_eq!(shown["tokens"], receipt["tokens"]);
	assert_eq!(shown["text"], receipt["text"], "job show decodes the text too: {shown}");

	// The receipt verifies: the stored tokens hash to the accepted output, a quorum revealed it.
	let verified = json(&run("commons", url, &["--json", "job", "verify", &job]));
	assert_eq!(verified["verified"], true, "{verified}");
	assert_eq!(verified["recomputed_hash"], verified["output_hash"]);
	assert_eq!(verified["agreeing_workers"].as_array().unwrap().len(), 3, "{verified}");
	assert_eq!(verified["quorum"], 2);

	// Text without the weights: with neither the model file nor a cached tokenizer the receipt is
	// still whole and says how to get the text; a file that is not the model is refused; the
	// tokenizer image alone, pinned by the registry's tokenizer hash, decodes the answer.
	let (empty_models, fresh_cache) = (dir.join("no-models"), dir.join("fresh-cache"));
	std::fs::create_dir_all(&empty_models).unwrap();
	let without = |args: &[&str]| {
		let mut all = vec![
			"--json",
			"--models-dir",
			empty_models.to_str().unwrap(),
			"--cache-dir",
			fresh_cache.to_str().unwrap(),
		];
		all.extend_from_slice(args);
		run("commons", url, &all)
	};
	let bare = json(&without(&["job", "show", &job]));
	assert_eq!(bare["tokens"], receipt["tokens"]);
	assert!(bare["text"].is_null(), "{bare}");
	assert!(bare["text_unavailable"].as_str().unwrap().contains("models fetch"), "{bare}");
	let stranger = dir.join("stranger.gguf");
	std::fs::write(&stranger, b"not a model").unwrap();
	let refused = without(&["models", "fetch", "0", "--from", stranger.to_str().unwrap()]);
	assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
	assert!(text(&refused).contains("neither the model file"), "{}", text(&refused));
	let model_file = models_dir().join("SmolLM2-135M-Instruct.Q4_1.gguf");
	let image = dir.join("smollm2-tokenizer.gguf");
	let hashed = json(&without(&[
		"models",
		"tokenizer-hash",
		model_file.to_str().unwrap(),
		"--write",
		image.to_str().unwrap(),
	]));
	let registered = json(&without(&["models", "list"]));
	assert_eq!(hashed["tokenizer_hash"], registered[0]["tokenizer_hash"], "{registered}");
	assert!(std::fs::metadata(&image).unwrap().len() < 4 << 20, "the image holds no weights");
	let fetched = json(&without(&["models", "fetch", "0", "--from", image.to_str().unwrap()]));
	assert_eq!(fetched["tokenizer"], "imported from a tokenizer image", "{fetched}");
	let decoded = json(&without(&["job", "show", &job]));
	assert_eq!(decoded["text"], receipt["text"], "{decoded}");

	let listed = json(&run("commons", url, &["--json", "workers", "list"]));
	assert_eq!(listed.as_array().unwrap().len(), 3);
	assert!(listed.as_array().unwrap().iter().all(|worker| worker["accepted"] == 1), "{listed}");
}

#[test]
fn bad_requests_are_refused_before_signing() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();
	let dir = temp_dir("refusals");
	let models = models_dir();
	let infer = |extra: &[&str]| {
		let mut args = vec!["infer", "--key", "//Alice", "--models-dir", models.to_str().unwrap()];
		args.extend_from_slice(extra);
		run("commons", url, &args)
	};
	let before = free(url, "//Alice");
	let prompt = ["--prompt", "What is the capital of France?"];

	let unknown = infer(&[&["--model", "7", "--price", "1"][..], &prompt].concat());
	assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
	assert!(
		String::from_utf8_lossy(&unknown.stderr).contains("unknown model `7`"),
		"{}",
		text(&unknown)
	);

	let cheap = infer(&[&["--model", "0", "--price", "0.000000000001"][..], &prompt].concat());
	assert_eq!(cheap.status.code(), Some(2), "{}", text(&cheap));
	assert!(
		String::from_utf8_lossy(&cheap.stderr).contains("below model 0's floor"),
		"{}",
		text(&cheap)
	);

	let long = "x".repeat(9000);
	let too_long = infer(&["--model", "0", "--price", "1", "--prompt", &long]);
	assert_eq!(too_long.status.code(), Some(2), "{}", text(&too_long));
	assert!(
		String::from_utf8_lossy(&too_long.stderr).contains("the chain takes at most"),
		"{}",
		text(&too_long)
	);

	// A requester with a little money: enough for nothing.
	let poor = "//CommonsPoorRequester";
	json(&run(
		"commons",
		url,
		&["--json", "transfer", "--key", "//Alice", "--to", poor, "--amount", "0.5"],
	));
	let before_poor = free(url, poor);
	let broke = run(
		"commons",
		url,
		&[&["infer", "--key", poor, "--model", "0", "--price", "1"][..], &prompt].concat(),
	);
	assert_eq!(broke.status.code(), Some(2), "{}", text(&broke));
	assert!(
		String::from_utf8_lossy(&broke.stderr).contains("not enough balance"),
		"{}",
		text(&broke)
	);
	assert_eq!(free(url, poor), before_poor, "nothing moved");

	let nowhere = format!("ws://127.0.0.1:{}", free_port());
	let unreachable = run(
		"commons",
		&nowhere,
		&[&["--json", "infer", "--key", "//Alice", "--model", "0", "--price", "1"][..], &prompt]
			.concat(),
	);
	assert_eq!(unreachable.status.code(), Some(3), "{}", text(&unreachable));
	let error: serde_json::Value = serde_json::from_slice(&unreachable.stdout).unwrap();
	assert!(error["error"].as_str().unwrap().contains("unreachable"), "{error}");

	// Audited requests: a rate below the governed MinAuditRate (1 %) is refused before signing,
	// replicas and a rate together are a usage error, and a dry run quotes one run plus the
	// audit at its rate without signing anything.
	let low =
		infer(&[&["--model", "0", "--price", "1", "--audit-rate", "0.5%"][..], &prompt].concat());
	assert_eq!(low.status.code(), Some(2), "{}", text(&low));
	assert!(
		String::from_utf8_lossy(&low.stderr)
			.contains("between 10000 and 1000000 parts per million"),
		"{}",
		text(&low)
	);
	#[rustfmt::skip]
	let both = infer(&[&[
		"--model", "0", "--price", "1", "--audit-rate", "5%", "--replicas", "3",
	][..], &prompt].concat());
	assert_eq!(both.status.code(), Some(2), "{}", text(&both));
	#[rustfmt::skip]
	let quoted = json(&infer(&[&[
		"--json", "--model", "0", "--price", "1", "--audit-rate", "5%", "--dry-run",
	][..], &prompt].concat()));
	assert_eq!(quoted["dry_run"], true, "{quoted}");
	// No worker serves the model on this chain: the quote says that posting would be refused.
	assert!(quoted["unserved"].as_str().unwrap().contains("only 0 online worker(s)"), "{quoted}");
	// A run is the price and the 5 % protocol fee, 1.05 CMN; the audit at 5 % adds 5 % of it.
	let run_cost = 105 * UNIT / 100;
	assert_eq!(amount(&quoted["expected"]), run_cost + run_cost / 20, "{quoted}");
	// Held: the worker, the auditor and three escalation seats, and the deposit.
	assert_eq!(amount(&quoted["payment"]) + amount(&quoted["fee"]), run_cost, "{quoted}");
	assert_eq!(amount(&quoted["escalation"]), 4 * run_cost, "{quoted}");

	// Nothing above moved Alice's funds but the transfer to the poor requester (and its fee).
	let transfer_fee = 0.5e12 as u128;
	assert!(before - free(url, "//Alice") < transfer_fee * 2, "only the transfer moved funds");
	let before = free(url, "//Alice");

	// Replicas beyond the governed MaxReplicas (5), a deadline beyond MaxAssignmentDelay, and a
	// model no online worker serves are refused before signing: such a job could only expire.
	for (extra, why) in [
		(["--replicas", "6", "--deadline", "3"], "the governed MaxReplicas"),
		(["--replicas", "1", "--deadline", "1000"], "the governed MaxAssignmentDelay"),
		(["--replicas", "1", "--deadline", "3"], "only 0 online worker(s) serve model 0"),
	] {
		let refused = infer(&[&["--model", "0", "--price", "1"][..], &extra, &prompt].concat());
		assert_eq!(refused.status.code(), Some(2), "{extra:?}: {}", text(&refused));
		assert!(
			String::from_utf8_lossy(&refused.stderr).contains(why),
			"{extra:?}: {}",
			text(&refused)
		);
	}
	assert_eq!(free(url, "//Alice"), before, "refusals move nothing");

	// A mistyped secret is refused by name and never appears in any output, as text or JSON.
	let secret = "bottom drive obey lake curtain smoke basket hold race lonely fit wolk";
	for args in [
		&["transfer", "--key", secret, "--to", "//Bob", "--amount", "1"][..],
		&["--json", "transfer", "--key", secret, "--to", "//Bob", "--amount", "1"],
		&["job", "cancel", "0", "--key", secret],
		&["--json", "infer", "--key", secret, "--model", "0", "--price", "1", "--prompt", "x"],
		&["gateway", "--key", secret, "--budget", "1", "--max-job-cost", "1"],
	] {
		let output = run("commons", url, args);
		assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
		let shown = text(&output);
		assert!(shown.contains("invalid secret key"), "{args:?}: {shown}");
		assert!(!shown.contains("wolk") && !shown.contains("bottom drive"), "echoed: {shown}");
	}
	// A key file others can read is refused, as the worker refuses its own; the owner's file
	// and standard input are read.
	let key_file = dir.join("alice.secret");
	std::fs::write(&key_file, "//Alice\n").unwrap();
	use std::os::unix::fs::PermissionsExt;
	std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
	let key_path = key_file.to_str().unwrap();
	let transfer_from_file =
		["--json", "transfer", "--key-file", key_path, "--to", "//Bob", "--amount", "1"];
	let open_file = run("commons", url, &transfer_from_file);
	assert_eq!(open_file.status.code(), Some(2), "{}", text(&open_file));
	assert!(text(&open_file).contains("chmod 600"), "{}", text(&open_file));
	assert_eq!(free(url, "//Alice"), before, "nothing moved");
	std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
	let sent = json(&run("commons", url, &transfer_from_file));
	assert_eq!(amount(&sent["amount"]), UNIT);
	let piped = {
		use std::io::Write;
		let mut child = std::process::Command::new(common::market::binary("commons"))
			.env("COMMONS_RPC", url)
			.args(["--json", "transfer", "--key-file", "-", "--to", "//Bob", "--amount", "1"])
			.stdin(std::process::Stdio::piped())
			.stdout(std::process::Stdio::piped())
			.stderr(std::process::Stdio::piped())
			.spawn()
			.unwrap();
		child.stdin.take().unwrap().write_all(b"//Alice\n").unwrap();
		child.wait_with_output().unwrap()
	};
	assert_eq!(json(&piped)["amount"], "1000000000000");

	// Transfers keep the sender alive unless told otherwise, and every refusal costs nothing.
	let before = free(url, "//Alice");
	let balance = json(&run("commons", url, &["--json", "balance", "//Alice"]));
	assert!(amount(&balance["spendable"]) <= amount(&balance["free"]), "{balance}");
	let cmn = |value: u128| format!("{}.{:012}", value / UNIT, value % UNIT);
	// All it can spend but the fee and half the existential deposit: the sender would go.
	// The fee of an amount of the same size, so that its encoding is as long.
	let probe = cmn(amount(&balance["spendable"]) - UNIT);
	let quote = json(&run(
		"commons",
		url,
		&[
			"--json",
			"transfer",
			"--key",
			"//Alice",
			"--to",
			"//Bob",
			"--amount",
			&probe,
			"--dry-run",
		],
	));
	let (fee, existential) = (amount(&quote["fee"]), amount(&quote["existential_deposit"]));
	let almost_all = cmn(amount(&quote["spendable"]) - fee - existential / 2);
	for (amount_text, to, why) in [
		(almost_all.as_str(), "//Bob", "below the existential deposit"),
		("0", "//Bob", "more than 0"),
		("0.000000000001", "//CommonsNobody", "the recipient would hold"),
	] {
		let refused = run(
			"commons",
			url,
			&["transfer", "--key", "//Alice", "--to", to, "--amount", amount_text],
		);
		assert_eq!(refused.status.code(), Some(2), "{amount_text}: {}", text(&refused));
		assert!(text(&refused).contains(why), "{amount_text}: {}", text(&refused));
	}
	assert_eq!(free(url, "//Alice"), before, "refused transfers move nothing");

	// Usage errors are JSON under --json; a closed pipe ends the command quietly; cancelling a
	// job that is not stored is refused before signing.
	let usage = run("commons", url, &["--json", "infer", "--no-such-flag"]);
	assert_eq!(usage.status.code(), Some(2), "{}", text(&usage));
	let usage: serde_json::Value = serde_json::from_slice(&usage.stdout).unwrap();
	assert_eq!(usage["code"], 2, "{usage}");
	assert!(usage["error"].as_str().unwrap().contains("--no-such-flag"), "{usage}");
	let closed = std::process::Command::new(common::market::binary("commons"))
		.env("COMMONS_RPC", url)
		.args(["models", "list"])
		.stdout(std::process::Stdio::piped())
		.stderr(std::process::Stdio::piped())
		.spawn()
		.unwrap();
	let closed = {
		let mut closed = closed;
		drop(closed.stdout.take());
		closed.wait_with_output().unwrap()
	};
	assert_eq!(closed.status.code(), Some(141), "{}", text(&closed));
	assert!(closed.stderr.is_empty(), "{}", text(&closed));
	let cancel = run("commons", url, &["job", "cancel", "999", "--key", "//Alice"]);
	assert_eq!(cancel.status.code(), Some(2), "{}", text(&cancel));
	assert!(text(&cancel).contains("no job 999 is stored"), "{}", text(&cancel));
	assert_eq!(free(url, "//Alice"), before, "nothing moved");

	// The worker's commands, each failure named, with its exit code.
	let key = dir.join("worker.key");
	let key_arg = key.to_str().unwrap();
	let missing = run("commons-worker", url, &["status", "--key", key_arg]);
	assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
	let address = generate_key(url, &key);
	let again = run("commons-worker", url, &["key", "generate", "--out", key_arg]);
	assert_eq!(again.status.code(), Some(2), "{}", text(&again));
	assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
	let status = json(&run("commons-worker", url, &["--json", "status", "--key", key_arg]));
	assert_eq!(status["registered"], false);
	json(&run(
		"commons",
		url,
		&["--json", "transfer", "--key", "//Alice", "--to", &address, "--amount", "500"],
	));
	let register = |stake: &str, model: &str| {
		run(
			"commons-worker",
			url,
			&["register", "--key", key_arg, "--stake", stake, "--price", "1", "--model", model],
		)
	};
	let unknown_model = register("200", "9");
	assert_eq!(unknown_model.status.code(), Some(2), "{}", text(&unknown_model));
	assert!(String::from_utf8_lossy(&unknown_model.stderr).contains("unknown model `9`"));
	// Every management command is checked against the chain before signing: a refusal names
	// the problem, exits 2 and costs nothing, not even a fee.
	let before_refusals = free(url, &address);
	let refused = |args: &[&str], why: &str| {
		let output = run("commons-worker", url, args);
		assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
		assert!(
			String::from_utf8_lossy(&output.stderr).contains(why),
			"{args:?}: {}",
			text(&output)
		);
	};
	let low = register("1", "0");
	assert_eq!(low.status.code(), Some(2), "{}", text(&low));
	assert!(
		String::from_utf8_lossy(&low.stderr).contains("a worker needs at least"),
		"{}",
		text(&low)
	);
	refused(
		&["register", "--key", key_arg, "--stake", "900", "--price", "1", "--model", "0"],
		"not enough free balance",
	);
	refused(
		&["register", "--key", key_arg, "--stake", "200", "--price", "0", "--model", "0"],
		"price must be more than zero",
	);
	refused(
		&[
			"register", "--key", key_arg, "--stake", "200", "--price", "1", "--model", "0",
			"--model", "0",
		],
		"model 0 is listed twice",
	);
	for command in [
		&["bond-extra", "--key", key_arg, "--amount", "1"][..],
		&["set-price", "--key", key_arg, "--price", "2"],
		&["set-models", "--key", key_arg, "--model", "0"],
		&["go-online", "--key", key_arg],
		&["go-offline", "--key", key_arg],
		&["unbond", "--key", key_arg, "--amount", "1"],
		&["withdraw", "--key", key_arg],
		&["deregister", "--key", key_arg],
	] {
		refused(command, "is not a registered worker");
	}
	assert_eq!(free(url, &address), before_refusals, "a refused command paid a fee");
	let unregistered = run(
		"commons-worker",
		url,
		&["run", "--key", key_arg, "--metrics-port", "0", "--models-dir", models.to_str().unwrap()],
	);
	assert_eq!(unregistered.status.code(), Some(1), "{}", text(&unregistered));
	assert!(String::from_utf8_lossy(&unregistered.stderr).contains("not a registered worker"));
	let registered = register("200", "SmolLM2-135M-Instruct");
	assert!(registered.status.success(), "{}", text(&registered));
	let status = json(&run("commons-worker", url, &["--json", "status", "--key", key_arg]));
	assert_eq!(status["bonded"], "200000000000000", "{status}");
	let before_refusals = free(url, &address);
	assert_eq!(status["free"], before_refusals.to_string(), "{status}");
	refused(
		&["register", "--key", key_arg, "--stake", "200", "--price", "1", "--model", "0"],
		"is already registered",
	);
	refused(&["bond-extra", "--key", key_arg, "--amount", "0"], "amount must be more than zero");
	refused(&["bond-extra", "--key", key_arg, "--amount", "5000"], "not enough free balance");
	refused(&["set-price", "--key", key_arg, "--price", "0"], "price must be more than zero");
	refused(&["set-models", "--key", key_arg, "--model", "0", "--model", "0"], "listed twice");
	refused(&["go-online", "--key", key_arg], "already online");
	refused(&["unbond", "--key", key_arg, "--amount", "201"], "cannot unbond 201");
	refused(&["withdraw", "--key", key_arg], "no stake is unbonding");
	assert_eq!(free(url, &address), before_refusals, "a refused command paid a fee");
	let offline = run("commons-worker", url, &["go-offline", "--key", key_arg]);
	assert!(offline.status.success(), "{}", text(&offline));
	refused(&["go-offline", "--key", key_arg], "already offline");
	let online = run("commons-worker", url, &["go-online", "--key", key_arg]);
	assert!(online.status.success(), "{}", text(&online));
	// A models directory without the registered file: the worker refuses to start.
	let empty = dir.join("no-models");
	std::fs::create_dir_all(&empty).unwrap();
	let refused = run(
		"commons-worker",
		url,
		&["run", "--key", key_arg, "--metrics-port", "0", "--models-dir", empty.to_str().unwrap()],
	);
	assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
	assert!(
		String::from_utf8_lossy(&refused.stderr).contains("REFUSING TO SERVE model 0"),
		"{}",
		text(&refused)
	);
	let nowhere = format!("ws://127.0.0.1:{}", free_port());
	let unreachable = run("commons-worker", &nowhere, &["status", "--key", key_arg]);
	assert_eq!(unreachable.status.code(), Some(3), "{}", text(&unreachable));

	// A config file written by `init` holds the key: no `--key` needed, flags still override.
	let config = dir.join("worker.toml");
	let config_arg = config.to_str().unwrap();
	let init = run("commons-worker", url, &["init", "--out", config_arg, "--key", key_arg]);
	assert!(init.status.success(), "{}", text(&init));
	let written = std::fs::read_to_string(&config).unwrap();
	assert!(written.contains(&format!("key = \"{key_arg}\"")), "{written}");
	assert!(
		written.contains("# fee_warning_jobs = ") || written.contains("fee_warning_jobs = 100")
	);
	let again = run("commons-worker", url, &["init", "--out", config_arg]);
	assert_eq!(again.status.code(), Some(2), "init never overwrites: {}", text(&again));
	let status = json(&run("commons-worker", url, &["--json", "--config", config_arg, "status"]));
	assert_eq!(status["worker"], address.as_str(), "{status}");
	let typo = dir.join("typo.toml");
	std::fs::write(&typo, "thread = 2\n").unwrap();
	let bad = run("commons-worker", url, &["--json", "--config", typo.to_str().unwrap(), "status"]);
	assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
	let error: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
	assert_eq!(error["code"], 2, "{error}");
	assert!(error["error"].as_str().unwrap().contains("thread"), "{error}");

	// Fees: bond nearly all of the free balance, so that it pays few jobs' commits and reveals.
	let job_fees = amount(&status["job_fees"]);
	assert!(job_fees > 0, "{status}");
	// Fifty jobs' fees stay free (more than the existential deposit and the bonding's own fee).
	let spare = free(url, &address) - job_fees * 50;
	let spare_cmn = format!("{}.{:012}", spare / 1_000_000_000_000, spare % 1_000_000_000_000);
	let bond =
		run("commons-worker", url, &["--config", config_arg, "bond-extra", "--amount", &spare_cmn]);
	assert!(bond.status.success(), "{}", text(&bond));
	let status = json(&run("commons-worker", url, &["--json", "--config", config_arg, "status"]));
	let runway: u128 = status["fee_runway_jobs"].as_str().unwrap().parse().unwrap();
	assert!((1..100).contains(&runway), "a few jobs' fees left: {status}");
	assert_eq!(runway, free(url, &address) / amount(&status["job_fees"]), "{status}");
	// The daemon warns at start, in its log and its metrics, while reveals can still be paid.
	let metrics_port = free_port();
	let port_arg = metrics_port.to_string();
	let mut worker = WorkerProcess::with_args(
		url,
		&dir,
		"low-balance",
		&address,
		&[
			"--config",
			config_arg,
			"run",
			"--metrics-port",
			&port_arg,
			"--threads",
			"1",
			"--models-dir",
			models.to_str().unwrap(),
			"--tokens-per-block",
			"4",
		],
	);
	worker.serve();
	worker.wait_for("LOW BALANCE", 1, Duration::from_secs(120));
	assert!(
		worker.output().contains(&format!("pays the commit and reveal fees of {runway} more jobs")),
		"{}",
		worker.output()
	);
	let scrape = scrape_metrics(metrics_port);
	assert_eq!(metric(&scrape, "commons_worker_fee_runway_low"), Some(1.0), "{scrape}");
	assert_eq!(metric(&scrape, "commons_worker_fee_runway_jobs"), Some(runway as f64), "{scrape}");
	assert_eq!(metric(&scrape, "commons_worker_connected"), Some(1.0), "{scrape}");
	assert_eq!(metric(&scrape, "commons_worker_online"), Some(1.0), "{scrape}");
	let bonded = metric(&scrape, "commons_worker_bonded_cmn").unwrap();
	let expected = (200_000_000_000_000 + spare) as f64 / 1e12;
	assert!((bonded - expected).abs() < 1e-6, "{bonded} CMN bonded, not {expected}: {scrape}");
	// A second process with the same key refuses to start: its salts and nonces would collide
	// with the first one's.
	let models_arg = models.to_str().unwrap();
	let twice =
		run("commons-worker", url, &["--config", config_arg, "run", "--models-dir", models_arg]);
	assert_eq!(twice.status.code(), Some(2), "{}", text(&twice));
	assert!(
		text(&twice).contains("is in use by another commons-worker process"),
		"{}",
		text(&twice)
	);
	// A second worker on the same metrics port refuses to start, naming it.
	let other_key = dir.join("other-worker.key");
	generate_key(url, &other_key);
	let taken = run(
		"commons-worker",
		url,
		&[
			"--config",
			config_arg,
			"run",
			"--key",
			other_key.to_str().unwrap(),
			"--metrics-port",
			&port_arg,
			"--models-dir",
			models_arg,
		],
	);
	assert_eq!(taken.status.code(), Some(1), "{}", text(&taken));
	assert!(
		text(&taken).contains(&format!("cannot serve metrics on 127.0.0.1:{metrics_port}")),
		"{}",
		text(&taken)
	);
}

/// An agent's day through `commons gateway`, driven by the official `openai` Python package:
/// models listed, a chat completion, a streamed one, a multi-turn conversation, an unknown
/// model, a node that goes away while a job is followed, and a request beyond the budget. Every
/// answer's receipt is checked against the chain.
#[test]
fn an_openai_client_pays_through_the_gateway_and_every_answer_carries_its_receipt() {
	let _turn = one_at_a_time();
	// State kept for 16 blocks only, so that receipts are read after the node pruned them.
	let node = NodeProcess::start(&["--dev".into(), "--state-pruning".into(), "16".into()]);
	wait_for_node(&node);
	let url = node.url.as_str();
	let dir = temp_dir("gateway");
	let workers = [
		WorkerProcess::start(url, &dir, "cpu-a", "cpu"),
		WorkerProcess::start(url, &dir, "cpu-b", "cpu"),
	];

	// The budget lets four jobs post (three settle, the fourth stays reserved at its most) and
	// refuses a fifth: three settled costs and one and a half of a job's most possible cost.
	let quote = json(&run(
		"commons",
		url,
		&[
			"--json",
			"infer",
			"--key",
			"//Alice",
			"--model",
			"0",
			"--prompt",
			"hi",
			"--replicas",
			"2",
			"--price",
			"1",
			"--dry-run",
		],
	));
	let most = amount(&quote["total"]) - amount(&quote["deposit"]);
	let settled = amount(&quote["payment"]) + amount(&quote["fee"]);
	let budget = 3 * settled + most * 3 / 2;
	let cmn = |value: u128| format!("{}.{:012}", value / UNIT, value % UNIT);
	let relay = Relay::start(node.rpc_port);
	let gateway = GatewayProcess::start(
		&relay.url,
		&dir,
		&[
			"--key",
			"//Alice",
			"--replicas",
			"2",
			"--budget",
			&cmn(budget),
			"--max-job-cost",
			&cmn(most + UNIT),
		],
	);
	let diagnose = || {
		let logs: Vec<String> = workers.iter().map(WorkerProcess::output).collect();
		format!("gateway:\n{}\nworkers:\n{}", gateway.output(), logs.join("\n----\n"))
	};
	let step = |name: &str| -> serde_json::Value {
		let output = gateway_client(&gateway.base_url, name).output().unwrap();
		assert!(output.status.success(), "step {name}: {}\n{}", text(&output), diagnose());
		serde_json::from_slice(&output.stdout).unwrap()
	};
	let before = free(url, "//Alice");

	let chat = step("chat");
	let streamed = step("stream");
	let conversation = step("conversation");
	// Greedy decoding of the same prompt gives the same verified answer, streamed or not.
	assert_eq!(streamed["text"], chat["text"]);
	assert_eq!(streamed["commons"]["output_hash"], chat["commons"]["output_hash"]);
	let mut spent = 0;
	for answer in [&chat, &streamed, &conversation] {
		let receipt = &answer["commons"];
		assert_eq!(receipt["outcome"], "accepted", "{receipt}");
		assert_eq!(receipt["agreeing_workers"].as_array().unwrap().len(), 2, "{receipt}");
		let job = receipt["job"].as_u64().unwrap().to_string();
		let shown = json(&run("commons", url, &["--json", "job", "show", &job]));
		assert_eq!(shown["status"], "accepted", "{shown}");
		assert_eq!(shown["output_hash"], receipt["output_hash"], "{shown}");
		assert_eq!(shown["tokens"], receipt["output_tokens"], "{shown}");
		spent += amount(&receipt["cost"]) + amount(&receipt["deposit_held"]);
	}
	// The conversation went on chain as its messages, rendered by the workers turn by turn.
	let job = conversation["commons"]["job"].as_u64().unwrap();
	let shown = json(&run("commons", url, &["--json", "job", "show", &job.to_string()]));
	assert_eq!(shown["prompt"].as_array().map(Vec::len), Some(4), "{shown}");
	assert_eq!(shown["prompt"][2]["role"], "assistant", "{shown}");
	// What the receipts say was spent (deposits still held) is what left the account.
	assert_eq!(before - free(url, "//Alice"), spent);
	let refused = step("unknown_model");
	assert_eq!(refused["unknown"]["param"], "model");
	assert_eq!(before - free(url, "//Alice"), spent, "a refused request moves nothing");

	// The node goes away while the next job is followed: the client gets a clear 503 naming
	// the job, which goes on on chain and can be followed by its id.
	let lost = gateway_client(&gateway.base_url, "node_lost")
		.stdout(std::process::Stdio::piped())
		.stderr(std::process::Stdio::piped())
		.spawn()
		.unwrap();
	// Cut once a seat has committed: the gateway has long read the post's events by then and
	// follows the job, which still has its reveals ahead.
	let next = (job + 1).to_string();
	let start = std::time::Instant::now();
	loop {
		let shown = run("commons", url, &["--json", "job", "show", &next]);
		if shown.status.success() {
			let seats = json(&shown)["seats"].clone();
			if seats.as_array().unwrap().iter().any(|seat| seat["committed"] == true) {
				break;
			}
		}
		assert!(start.elapsed() < TIMEOUT, "job {next} was never committed\n{}", diagnose());
		std::thread::sleep(Duration::from_millis(200));
	}
	relay.cut();
	let lost = lost.wait_with_output().unwrap();
	assert!(lost.status.success(), "{}\n{}", text(&lost), diagnose());
	let lost: serde_json::Value = serde_json::from_slice(&lost.stdout).unwrap();
	assert_eq!(lost["lost"]["job"].as_u64(), Some(job + 1), "{lost}");
	let start = std::time::Instant::now();
	loop {
		let shown = json(&run("commons", url, &["--json", "job", "show", &next]));
		if shown["status"] == "accepted" {
			break;
		}
		assert!(start.elapsed() < TIMEOUT, "job {next} never settled: {shown}\n{}", diagnose());
		std::thread::sleep(Duration::from_secs(1));
	}

	// The node is back; the next request would pass the budget: refused before signing.
	relay.restore();
	let before = free(url, "//Alice");
	let over = step("over_budget");
	assert!(over["refused"]["message"].as_str().unwrap().contains("budget"), "{over}");
	assert_eq!(free(url, "//Alice"), before, "nothing moved");

	// The command line beside it: without a terminal the job's progress still prints; the
	// requester's jobs are listed; a settled job cannot be cancelled, and waiting for it
	// returns at once.
	let models = models_dir();
	#[rustfmt::skip]
	let plain = run("commons", url, &[
		"infer", "--key", "//Alice", "--model", "0", "--prompt", "Hi", "--max-tokens", "4",
		"--replicas", "2", "--price", "1", "--models-dir", models.to_str().unwrap(),
	]);
	assert!(plain.status.success(), "{}", text(&plain));
	assert!(String::from_utf8_lossy(&plain.stderr).contains("posted     job"), "{}", text(&plain));
	let listed = json(&run("commons", url, &["--json", "job", "list", "--requester", "//Alice"]));
	let ids: Vec<u64> =
		listed.as_array().unwrap().iter().map(|job| job["job"].as_u64().unwrap()).collect();
	assert!(ids.len() >= 5 && ids.contains(&job), "{listed}");
	let settled = json(&run("commons", url, &["--json", "job", "wait", &job.to_string()]));
	assert_eq!(settled["status"], "accepted", "{settled}");
	let before = free(url, "//Alice");
	let cancel = run("commons", url, &["job", "cancel", &job.to_string(), "--key", "//Alice"]);
	assert_eq!(cancel.status.code(), Some(2), "{}", text(&cancel));
	assert!(text(&cancel).contains("only a job still waiting"), "{}", text(&cancel));
	let cancel = run("commons", url, &["job", "cancel", &job.to_string(), "--key", "//Bob"]);
	assert!(text(&cancel).contains("not by this key"), "{}", text(&cancel));
	assert_eq!(free(url, "//Alice"), before, "refused cancellations move nothing");

	// Once the node has pruned the state of the first job's settlement block, `job show` still
	// reads the job from its record (kept for the retention period) and says where the
	// settlement's events went.
	let first = chat["commons"]["job"].as_u64().unwrap().to_string();
	let start = std::time::Instant::now();
	let shown = loop {
		let shown = json(&run("commons", url, &["--json", "job", "show", &first]));
		if !shown["events_note"].is_null() {
			break shown;
		}
		assert!(start.elapsed() < TIMEOUT, "the node never pruned: {shown}");
		std::thread::sleep(Duration::from_secs(2));
	};
	assert_eq!(shown["status"], "accepted", "{shown}");
	assert_eq!(shown["output_hash"], chat["commons"]["output_hash"], "{shown}");
	assert_eq!(shown["tokens"], chat["commons"]["output_tokens"], "{shown}");
	assert!(shown["events_note"].as_str().unwrap().contains("archive node"), "{shown}");
}
