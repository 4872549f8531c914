// Interop client for Mekong's gRPC transport, on @grpc/grpc-js (a client nobody here wrote).
// Usage: node client.js PROTO_ROOT TARGET SCENARIO
// Loads proto/mekong/v1/jobs.proto at run time with @grpc/proto-loader. Prints one line per checked
// step and "PASS <scenario>" at the end; exits non-zero on any mismatch.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [protoRoot, target, scenario] = process.argv.slice(2);
const definition = protoLoader.loadSync(['mekong/v1/jobs.proto', 'mekong/v1/agent.proto'].map((f) => path.join(protoRoot, f)), {
  includeDirs: [protoRoot], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true,
});
const v1 = grpc.loadPackageDefinition(definition).mekong.v1;
const jobs = new v1.JobService(target, grpc.credentials.createInsecure());

function check(condition, what) {
  if (!condition) {
    console.log('FAIL ' + what);
    process.exit(1);
  }
  console.log('ok   ' + what);
}

const deadline = (ms) => ({ deadline: new Date(Date.now() + ms) });
const unary = (method, request, options = deadline(10000), metadata = new grpc.Metadata()) =>
  new Promise((resolve, reject) => jobs[method](request, metadata, options, (err, res) => (err ? reject(err) : resolve(res))));
const spec = (project = 'uni-js/crud', gpus = 2) => ({
  project, name: 'js', gpus_per_node: gpus, gpu_type: 'h100', walltime: { seconds: 3600 }, command: ['node', 'train.js'],
});
const bearer = () => { const m = new grpc.Metadata(); m.set('authorization', 'Bearer dave'); return m; };

async function expectError(promise, code, text, what) {
  try {
    await promise;
  } catch (e) {
    check(e.code === code, `${what}: status ${e.code} is ${code}`);
    check(e.details.includes(text), `${what}: message ${JSON.stringify(e.details)} mentions ${JSON.stringify(text)}`);
    return;
  }
  check(false, `${what}: call failed`);
}

// Buffers a stream's events from the start so none is lost between awaits.
function eventQueue(call) {
  const items = [];
  const waiters = [];
  const push = (item) => { const w = waiters.shift(); if (w) w(item); else items.push(item); };
  call.on('data', (e) => push({ event: e }));
  call.on('end', () => push({ end: true }));
  call.on('error', (e) => push({ error: e }));
  return {
    next: async () => {
      const item = items.length > 0 ? items.shift() : await new Promise((resolve) => waiters.push(resolve));
      if (item.error) throw item.error;
      return item.end ? null : item.event;
    },
  };
}

async function main() {
  if (scenario === 'crud') {
    const { job } = await unary('SubmitJob', { spec: spec() }, deadline(10000), bearer());
    check(job.id.startsWith('j-') && job.user === 'dave', 'submit returns the job with the caller as user');
    check(job.state === 'JOB_STATE_PENDING', 'submitted job is pending');
    const got = await unary('GetJob', { id: job.id });
    check(got.job.id === job.id && got.job.spec.gpus_per_node === 2, 'get returns the job');
    for (let i = 0; i < 2; i++) await unary('SubmitJob', { spec: spec() }, deadline(10000), bearer());
    const page = await unary('ListJobs', { project: 'uni-js/crud', page_size: 2 });
    check(page.jobs.length === 2 && page.next_page_token !== '', 'list pages by two');
    const rest = await unary('ListJobs', { project: 'uni-js/crud', page_size: 2, page_token: page.next_page_token });
    check(rest.jobs.length === 1 && rest.next_page_token === '', 'second page holds the last job');
    const cancelled = await unary('CancelJob', { id: job.id }, deadline(10000), bearer());
    check(cancelled.job.state === 'JOB_STATE_CANCELLED' && cancelled.job.cancelled_by === 'dave', 'cancel');
    const listed = await unary('ListJobs', { project: 'uni-js/crud', states: ['JOB_STATE_CANCELLED'] });
    check(listed.jobs.length === 1 && listed.jobs[0].id === job.id, 'list filters by state');
    const explained = await unary('ExplainJob', { id: rest.jobs[0].id });
    check(explained.explanation.reason === 'PENDING_REASON_QUOTA_LIMIT', 'explain gives the reason');
  } else if (scenario === 'errors') {
    await expectError(unary('GetJob', { id: 'j-ünï 100%' }), grpc.status.NOT_FOUND, 'job j-ünï 100% not found', 'unknown job');
    await expectError(unary('SubmitJob', { spec: spec('uni-js/crud', 0) }), grpc.status.INVALID_ARGUMENT, 'gpus_per_node', 'zero GPUs');
    const client = new grpc.Client(target, grpc.credentials.createInsecure());
    await expectError(new Promise((resolve, reject) => client.makeUnaryRequest('/mekong.v1.JobService/NoSuchMethod',
      (x) => x, (x) => x, Buffer.alloc(0), deadline(10000), (err, res) => (err ? reject(err) : resolve(res)))),
    grpc.status.UNIMPLEMENTED, 'NoSuchMethod', 'unknown method');
    const big = spec();
    big.env = { BLOB: 'x'.repeat(5 * 1024 * 1024) };
    await expectError(unary('SubmitJob', { spec: big }), grpc.status.RESOURCE_EXHAUSTED, 'larger than max', 'oversize request');
  } else if (scenario === 'deadline') {
    const start = Date.now();
    await expectError(unary('GetJob', { id: 'slow' }, deadline(300)), grpc.status.DEADLINE_EXCEEDED, '', 'deadline on a slow call');
    check(Date.now() - start < 3000, 'deadline ended the call promptly');
    await unary('ListJobs', {});
  } else if (scenario === 'watch') {
    const { job } = await unary('SubmitJob', { spec: spec('uni-js/watch') });
    const call = jobs.WatchJob({ id: job.id }, deadline(10000));
    let status = null;
    call.on('status', (s) => { status = s; });
    const events = eventQueue(call);
    const first = await events.next();
    check(first.type === 'JOB_EVENT_TYPE_SNAPSHOT' && first.job.id === job.id, 'watch starts with a snapshot');
    await unary('CancelJob', { id: job.id });
    const second = await events.next();
    check(second.job.state === 'JOB_STATE_CANCELLED', 'watch sees the cancellation');
    check((await events.next()) === null, 'watch ends after the final state');
    await new Promise((r) => setTimeout(r, 50));
    check(status !== null && status.code === grpc.status.OK, 'watch ends with OK');
  } else if (scenario === 'watch-cancel') {
    const call = jobs.WatchProject({ project: 'uni-js/cancel' }, deadline(30000));
    const subscribed = new Promise((resolve) => call.once('metadata', resolve));
    const events = eventQueue(call);
    await subscribed; // the server sends headers once the watch is subscribed
    await unary('SubmitJob', { spec: spec('uni-js/cancel') });
    const first = await events.next();
    check(first.type === 'JOB_EVENT_TYPE_SUBMITTED', 'project watch sees a submission');
    call.cancel();
    try {
      await events.next();
      check(false, 'cancelled stream ends with an error');
    } catch (e) {
      check(e.code === grpc.status.CANCELLED, 'cancelled stream reports CANCELLED');
    }
  } else if (scenario === 'agent') {
    // Full duplex: each request is written only after the answer to the previous one arrived.
    const agent = new v1.AgentService(target, grpc.credentials.createInsecure());
    const call = agent.Connect(deadline(10000));
    const events = eventQueue(call);
    call.write({ sequence: 1, hello: { node_name: 'js-node' } });
    const welcome = await events.next();
    check(welcome.welcome.session_id === 's-js-node', 'agent stream: welcome answers hello');
    call.write({ sequence: 2, inventory: { gpus: [{ index: 7, model: 'NVIDIA H100' }] } });
    const start = await events.next();
    check(start.start_job.gpu_indices.length === 1 && start.start_job.gpu_indices[0] === 7, 'agent stream: start command for the inventory\'s GPU');
    call.end();
    check((await events.next()) === null, 'agent stream ends when the agent half-closes');
    agent.close();
  } else {
    check(false, 'unknown scenario ' + scenario);
  }
  console.log('PASS ' + scenario);
  jobs.close();
}

main().catch((e) => { console.log('FAIL unexpected error: ' + (e && e.stack ? e.stack : e)); process.exit(1); });
