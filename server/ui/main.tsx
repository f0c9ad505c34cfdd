/** The Weather Station's entry point: one DDP connection to the server that served the page. */
import { render } from 'preact';
import { App } from './app.tsx';
import { DdpConnection } from './ddp/ddp-connection.ts';
import './styles.css';

const roots = (document.querySelector('meta[name="cumulus-roots"]')?.getAttribute('content') ?? 'queue').split(',').filter(Boolean);
const connection = new DdpConnection(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/websocket`);
const mount = document.getElementById('app');
if (mount !== null) render(<App connection={connection} roots={roots} />, mount);
