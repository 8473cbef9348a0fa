/** Entry point: styles (Pico CSS, classless and accessible by default), then the app. */
import "@picocss/pico/css/pico.min.css";
import "./app.css";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";

createRoot(document.getElementById("root")!).render(<App />);
