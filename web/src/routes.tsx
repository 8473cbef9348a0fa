/** Every page, the roles that may open it, and its navigation label. ADMIN sees everything. */
import type { ComponentType } from "react";
import type { MessageKey } from "./i18n/index.ts";
import type { Role } from "./session.ts";
import { Catalog } from "./pages/buyer/catalog.tsx";
import { ListingPage } from "./pages/buyer/listing.tsx";
import { CreditPage } from "./pages/buyer/credit.tsx";
import { DatasetsPage } from "./pages/owner/datasets.tsx";
import { DatasetPage } from "./pages/owner/dataset.tsx";
import { RequestsPage } from "./pages/owner/requests.tsx";
import { AnalysesPage } from "./pages/owner/analyses.tsx";
import { EarningsPage } from "./pages/owner/earnings.tsx";
import { DeveloperPage } from "./pages/developer.tsx";
import { TradesPage } from "./pages/regulator/trades.tsx";
import { AuditPage } from "./pages/regulator/audit.tsx";
import { VerifyPage } from "./pages/regulator/verify.tsx";

export interface RouteDef {
  path: string;
  roles: readonly Role[];
  label: MessageKey;
  nav: boolean;
  page: ComponentType<{ args: string[] }>;
}

export const routes: RouteDef[] = [
  { path: "datasets", roles: ["OWNER"], label: "navDatasets", nav: true, page: DatasetsPage },
  { path: "dataset", roles: ["OWNER"], label: "navDatasets", nav: false, page: DatasetPage },
  { path: "requests", roles: ["OWNER"], label: "navRequests", nav: true, page: RequestsPage },
  { path: "analyses", roles: ["OWNER"], label: "navAnalyses", nav: true, page: AnalysesPage },
  { path: "earnings", roles: ["OWNER"], label: "navEarnings", nav: true, page: EarningsPage },
  { path: "catalog", roles: ["BUYER"], label: "navCatalog", nav: true, page: Catalog },
  { path: "listing", roles: ["BUYER"], label: "navCatalog", nav: false, page: ListingPage },
  { path: "credit", roles: ["BUYER"], label: "navCredit", nav: true, page: CreditPage },
  { path: "trades", roles: ["REGULATOR"], label: "navTrades", nav: true, page: TradesPage },
  { path: "audit", roles: ["REGULATOR"], label: "navAudit", nav: true, page: AuditPage },
  { path: "verify", roles: ["REGULATOR"], label: "navVerify", nav: true, page: VerifyPage },
  { path: "developer", roles: ["OWNER", "BUYER", "REGULATOR"], label: "navDeveloper", nav: true, page: DeveloperPage },
];
