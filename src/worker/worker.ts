/** Worker entry: exposes the one API object (./api.ts) to the page's bridge over Comlink. */
import * as Comlink from 'comlink';
import { api } from './api';

Comlink.expose(api);
