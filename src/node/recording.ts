// The `record` option of createServer() and connect(): the node:net face builds the endpoint a Driver runs, a
// RecordingEndpoint when recording, and hands the driver the hook that ends the log when it closes. Drivers
// never know about recording (test/node/driver-recording.test.ts checks that they import nothing of src/replay/).
import { Endpoint, type EndpointOptions } from '../core/index.js';
import { recordingEndpoint, type RecordOption } from '../replay/recorder.js';
import { Driver } from './driver.js';

/** A Driver on a new endpoint: recorded into `record` (one file, or a ring of chunk files) when given. */
export function newDriver(options: EndpointOptions, record: RecordOption | undefined, label: string): Driver {
  if (record === undefined) return new Driver(new Endpoint(options));
  const endpoint = recordingEndpoint(options, record, { label });
  return new Driver(endpoint, { onClose: () => endpoint.closeLog() });
}
