// node --import ./tools/register-raw.mjs --import tsx …: see tools/raw-loader.mjs.
import { register } from 'node:module';

register('./raw-loader.mjs', import.meta.url);
