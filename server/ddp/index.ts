/**
 * The DDP protocol layer. It knows methods and publications only as registered handlers.
 */
export { DdpServer, ddpServerDefaults } from './ddp-server.ts';
export type {
  ConnectionInfo,
  DdpServerOptions,
  MethodHandler,
  MethodInvocation,
  PublishHandler,
  PublishedId,
  Subscription,
} from './types.ts';
export { setupEjson } from './wire.ts';
export { idParse, idStringify } from './id-stringify.ts';
export { ObjectId } from '../../shared/object-id.ts';
