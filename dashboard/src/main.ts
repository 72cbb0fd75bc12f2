import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { installTestHooks } from "./lib/testHooks";

installTestHooks();
export default mount(App, { target: document.getElementById("app")! });
