// A TypeDoc plugin for `npm run docs`: names each documented module by the specifier a user
// imports it with ('simpatico-ws', 'simpatico-ws/frames', ...) instead of its path under src/.
import { Converter, ReflectionKind } from 'typedoc';

/** src/ paths of the entry points (typedoc.json), and the package.json export each one is. */
const NAMES = {
  index: 'simpatico-ws',
  frames: 'simpatico-ws/frames',
  handshake: 'simpatico-ws/handshake',
  registration: 'simpatico-ws/registration',
  'registration/browser/simpatico-socket': 'simpatico-ws/browser',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = NAMES[module.name];
      if (name === undefined) throw new Error(`typedoc-entry-names: no import specifier for the module '${module.name}'.`);
      module.name = name;
    }
  });
}
